from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from .authentication import signed_in_user
from .models import Profile, User
from .security import Refusal, refusal_of
from .selectors import profile_get_by_username, profile_search, user_get_active
from .services import api_token_create, profile_update, user_follow, user_unfollow


class ProfileOutputSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    photo_count = serializers.IntegerField(read_only=True, default=None)
    follower_count = serializers.IntegerField(read_only=True, default=None)
    following_count = serializers.IntegerField(read_only=True, default=None)
    followed = serializers.SerializerMethodField()

    class Meta:
        model = Profile
        fields = [
            "username", "display_name", "bio", "photo_count", "follower_count",
            "following_count", "followed",
        ]  # fmt: skip

    def get_followed(self, profile: Profile) -> bool:
        return bool(getattr(profile, "followed_by_viewer", False))


class UserDetailApi(APIView):
    """A user's public profile."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: ProfileOutputSerializer})
    def get(self, request: Request, username: str) -> Response:
        profile = profile_get_by_username(username=username, viewer=request.user)
        return Response(ProfileOutputSerializer(profile).data)


class MeApi(APIView):
    """The signed-in user's own profile."""

    class ProfileInputSerializer(serializers.Serializer):
        display_name = serializers.CharField(required=False, allow_blank=True, max_length=80)
        bio = serializers.CharField(required=False, allow_blank=True, max_length=500)

    @extend_schema(responses={200: ProfileOutputSerializer})
    def get(self, request: Request) -> Response:
        profile = profile_get_by_username(username=request.user.get_username())
        return Response(ProfileOutputSerializer(profile).data)

    @extend_schema(request=ProfileInputSerializer, responses={200: ProfileOutputSerializer})
    def patch(self, request: Request) -> Response:
        data = self.ProfileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = signed_in_user(request)
        profile_update(user=user, **data.validated_data)
        profile = profile_get_by_username(username=user.get_username(), viewer=user)
        return Response(ProfileOutputSerializer(profile).data)


class FollowApi(APIView):
    """PUT follows a user, DELETE unfollows; both are safe to repeat."""

    @extend_schema(request=None, responses={200: ProfileOutputSerializer})
    def put(self, request: Request, username: str) -> Response:
        followee = user_get_active(username=username)
        try:
            user_follow(follower=signed_in_user(request), followee=followee)
        except ValueError as error:
            raise ValidationError({"username": [str(error)]}, code="cannot_follow_self") from error
        return self.profile(request, username)

    @extend_schema(request=None, responses={200: ProfileOutputSerializer})
    def delete(self, request: Request, username: str) -> Response:
        user_unfollow(follower=signed_in_user(request), followee=user_get_active(username=username))
        return self.profile(request, username)

    def profile(self, request: Request, username: str) -> Response:
        profile = profile_get_by_username(username=username, viewer=request.user)
        return Response(ProfileOutputSerializer(profile).data)


@extend_schema_view(
    get=extend_schema(parameters=[OpenApiParameter("q", str, description="At least 2 characters")])
)
class UserSearchApi(generics.ListAPIView):
    """Users whose name contains ``?q=`` (at least two characters)."""

    permission_classes = [AllowAny]
    serializer_class = ProfileOutputSerializer
    pagination_class = None

    def get_queryset(self):
        query = self.request.query_params.get("q", "").strip()
        if len(query) < 2:
            return Profile.objects.none()
        return profile_search(query=query, viewer=self.request.user).order_by("user__username")[:20]


class TooManyAttempts(Throttled):
    """429 with the login page's message, when the lockout refused to check the password."""

    default_code = "too_many_attempts"

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(detail=refusal.message, code=self.default_code)
        self.wait = refusal.retry_after  # the Retry-After header


class LoginThrottledTokenApi(APIView):
    """Exchange a user name and password for a new API token.

    Wrong passwords count towards the lockout the login pages share (apps.accounts.security);
    the ``login`` rate limit applies as well. Each call makes a new token, named by ``name``:
    the user sees and revokes them on their settings page.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
        name = serializers.CharField(required=False, max_length=80, default="API")

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        name = serializers.CharField()
        prefix = serializers.CharField()
        expires_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            refusal = refusal_of(request._request)
            if refusal is not None:
                raise TooManyAttempts(refusal)
            raise ValidationError(
                "Unable to log in with provided credentials.", code="authorization"
            )
        assert isinstance(user, User)
        token, key = api_token_create(user=user, name=data.validated_data["name"])
        output = {
            "token": key, "name": token.name, "prefix": token.prefix,
            "expires_at": token.expires_at,
        }  # fmt: skip
        return Response(self.OutputSerializer(output).data)
