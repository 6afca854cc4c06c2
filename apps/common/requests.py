from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle


def client_address(request: HttpRequest | Request) -> str:
    """The client's address as our own proxies saw it (``PINSTABLR_NUM_PROXIES``).

    The one rule for every per-client limit (the API's rate limits and the login lockout):
    DRF's. ``X-Forwarded-For`` is believed only as far as our proxies append to it, so behind
    the load balancer each client is told apart, and without a proxy a client cannot name
    another address to dodge a limit or to spend someone else's.
    """
    # get_ident reads only headers and META, which a Django request has as well.
    return BaseThrottle().get_ident(request) or ""  # type: ignore[arg-type]
