from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts.selectors import profile_list_recent


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: who is new on Pinstablr."""
    return render(request, "common/home.html", {"profiles": profile_list_recent(limit=12)})
