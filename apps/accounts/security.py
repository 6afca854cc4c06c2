"""Login lockout: how many wrong passwords a guesser gets, and why a stranger cannot use it to
lock someone else out.

Every path that checks a password (the login page, the admin's login, the API's token
endpoint, anything calling ``django.contrib.auth.authenticate``) goes through
:class:`apps.accounts.backends.LockoutModelBackend`, which asks :func:`login_refusal` before
checking and reports the outcome to :func:`login_failed` or :func:`login_succeeded`. So there
is one set of counters and one message for all of them.

Counters live in the default cache (Redis in production, shared by every web server) and are
keyed on the user name (case-folded, hashed) and on the client's address as our proxies saw
it: :func:`apps.common.requests.client_address`, the rule the API's rate limits follow
(``PINSTABLR_NUM_PROXIES``), so behind the load balancer clients are told apart and a client
cannot name another address. With N = ``PINSTABLR_LOGIN_FAILURES_PER_USER`` (default 5):

1. **Name and address**: N failures for one user name from one address lock that pair for
   15 minutes. This is the lock a guesser meets; it does not touch the real user, who signs
   in from another address.
2. **Address**: 4N failures from one address, whatever the names, lock the address for
   15 minutes (password spraying: one address, many accounts).
3. **Name, from everywhere**: after 4N failures for one name from all addresses (a botnet,
   each address staying under limit 1), every further failure makes the next attempt for
   that name wait twice as long, from 2 seconds up to a cap of 60 seconds. It only slows
   down: it never locks for longer than a minute, and it does not apply to an address the
   user signed in from successfully in the last 30 days.

Counters slide: each expires 15 minutes after its last failure. Attempts refused while
locked or waiting are not counted, so hammering a lock does not lengthen it. A success
clears its own name-and-address counter and marks that address as known for the name; it
does not clear the address or name counters, which would hand an attacker a fresh budget.

Trade-off. A hard lock of the account after N failures (the old per-name counter) lets
anyone lock anyone out indefinitely by guessing on their name. OWASP's Authentication
Cheat Sheet ("Account Lockout") warns of exactly this denial of service and suggests
locking on what the attacker controls and slowing down rather than locking; NIST SP
800-63B §5.2.2 ("Rate Limiting (Throttling)") asks to limit failed attempts on an account
and names as techniques increasing wait times and accepting attempts from addresses that
succeeded before. We follow both: locks fall on the attacker's (name, address) pair and
address (1, 2); the per-name limit, the one a stranger can trigger, is a delay capped at a
minute and skips known addresses (3). What it costs: a botnet with many addresses can still
try about one password a minute per account (about 1,440 a day), past NIST's 100 on one
account, which is the price of never locking the real user out; passwords pass Django's
validators (common-password list, minimum length), and a person who is slowed down can
always reset their password by e-mail. With the cache down the limits are not enforced
(the error is logged): the lockout is a protection, not a reason to refuse every login.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from apps.common.requests import client_address

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600
FIRST_DELAY_SECONDS = 2
MAX_DELAY_SECONDS = 60
# The backend leaves the refusal on the request, for the form or API view to explain it.
REFUSAL_ATTRIBUTE = "_pinstablr_login_refusal"


@dataclass(frozen=True)
class Refusal:
    """An attempt refused without checking the password, and when to try again."""

    retry_after: int  # seconds

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        wait = "a minute" if minutes == 1 else f"{minutes} minutes"
        return f"Too many failed attempts. Try again in {wait}, or reset your password."


@dataclass(frozen=True)
class _Keys:
    pair: str  # failures of this name from this address
    address: str  # failures from this address, any name
    name: str  # failures of this name, any address
    pair_lock: str
    address_lock: str
    name_wait: str
    known: str  # this address signed in as this name recently


def _keys(request: Any, username: str) -> _Keys:
    name = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    address = (client_address(request) if request is not None else "") or "unknown"
    return _Keys(
        pair=f"login:fail:{name}:{address}",
        address=f"login:fail-ip:{address}",
        name=f"login:fail-name:{name}",
        pair_lock=f"login:lock:{name}:{address}",
        address_lock=f"login:lock-ip:{address}",
        name_wait=f"login:wait-name:{name}",
        known=f"login:known:{name}:{address}",
    )


def _limits() -> tuple[int, int]:
    """Failures allowed per name and address, and per address or name alone."""
    per_pair = settings.PINSTABLR_LOGIN_FAILURES_PER_USER
    return per_pair, per_pair * 4


def login_refusal(request: Any, username: str) -> Refusal | None:
    """Why an attempt for ``username`` from this client is refused now; None if it may go on."""
    keys = _keys(request, username)
    until = cache.get_many([keys.pair_lock, keys.address_lock, keys.name_wait, keys.known])
    if until.get(keys.known):
        until.pop(keys.name_wait, None)  # the name's delay spares the user's own addresses
    now = time.time()
    latest = max((float(value) for key, value in until.items() if key != keys.known), default=0)
    if latest <= now:
        return None
    return Refusal(retry_after=math.ceil(latest - now))


def _count(key: str) -> int:
    """One more failure on ``key``'s counter, which expires a window after its last failure."""
    if cache.add(key, 1, WINDOW_SECONDS):
        return 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired in between
        cache.set(key, 1, WINDOW_SECONDS)
        return 1
    cache.touch(key, WINDOW_SECONDS)
    return int(count or 0)  # None: the cache is down and ignores errors


def login_failed(request: Any, username: str) -> None:
    """Count a wrong password (or unknown name) and lock or slow down past the limits."""
    keys = _keys(request, username)
    per_pair, per_address = _limits()
    now = time.time()
    locks: dict[str, float] = {}
    if _count(keys.pair) >= per_pair:
        locks[keys.pair_lock] = now + WINDOW_SECONDS
    if _count(keys.address) >= per_address:
        locks[keys.address_lock] = now + WINDOW_SECONDS
    beyond = _count(keys.name) - per_address
    if beyond >= 0:
        delay = min(FIRST_DELAY_SECONDS * 2**beyond, MAX_DELAY_SECONDS)
        locks[keys.name_wait] = now + delay
    for key, until in locks.items():
        cache.set(key, until, math.ceil(until - now))
    if locks:
        logger.warning(
            "login attempts limited", extra={"locks": sorted(k.split(":")[1] for k in locks)}
        )


def login_succeeded(request: Any, username: str) -> None:
    """Forget this pair's failures and remember the address as one the user signs in from."""
    keys = _keys(request, username)
    cache.delete(keys.pair)
    cache.set(keys.known, 1, KNOWN_ADDRESS_SECONDS)


def remember_refusal(request: Any, refusal: Refusal | None) -> None:
    """Leave ``refusal`` (or none) on the request for the page or API view to explain."""
    if request is not None:
        setattr(request, REFUSAL_ATTRIBUTE, refusal)


def refusal_of(request: Any) -> Refusal | None:
    """The refusal the backend left on ``request`` in this request's last attempt, if any."""
    return getattr(request, REFUSAL_ATTRIBUTE, None)
