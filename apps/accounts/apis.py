from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Profile, User
from .selectors import profile_get_by_username
from .services import profile_update


class ProfileOutputSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Profile
        fields = ["username", "display_name", "bio"]


class UserDetailApi(APIView):
    """A user's public profile."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: ProfileOutputSerializer})
    def get(self, request: Request, username: str) -> Response:
        profile = profile_get_by_username(username=username)
        return Response(ProfileOutputSerializer(profile).data)


class MeApi(APIView):
    """The signed-in user's own profile."""

    class InputSerializer(serializers.Serializer):
        display_name = serializers.CharField(required=False, allow_blank=True, max_length=80)
        bio = serializers.CharField(required=False, allow_blank=True, max_length=500)

    @extend_schema(responses={200: ProfileOutputSerializer})
    def get(self, request: Request) -> Response:
        profile = profile_get_by_username(username=request.user.get_username())
        return Response(ProfileOutputSerializer(profile).data)

    @extend_schema(request=InputSerializer, responses={200: ProfileOutputSerializer})
    def patch(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        assert isinstance(user, User)  # IsAuthenticated ran first
        profile = profile_update(user=user, **data.validated_data)
        return Response(ProfileOutputSerializer(profile).data)
