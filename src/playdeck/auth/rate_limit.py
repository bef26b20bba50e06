"""Rate limits and the lockout counter for unknown accounts, on one ``limits`` storage.

The storage is in-process by default and Redis when ``PLAYDECK_REDIS_URL`` is set, so several
Playdeck processes share counters. Every check here runs before any password hashing: hashing is
deliberately slow, and refusing early is what keeps a flood cheap. When the storage itself fails
(Redis down) the sensitive endpoints fail closed with 503 rather than run unlimited.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from playdeck.errors import AppError, Locked, TooManyRequests
from playdeck.kit.bulkhead import Bulkhead, DependencyUnavailable
from playdeck.observability.metrics import RATE_LIMIT_REFUSALS
from playdeck.settings import Settings

logger = logging.getLogger("playdeck.security")

# How long failures against an unknown name are remembered before they start over.
UNKNOWN_ACCOUNT_COUNTER_SECONDS = 24 * 60 * 60
KEY_PREFIX = "playdeck"
# After a Redis failure, how long every check answers 503 at once before trying Redis again.
REDIS_COOLDOWN_SECONDS = 2.0
# Most keys (counters and windows) the in-process storage holds; about 2 kB each, so ~100 MB at
# worst. Redis, when configured, has its own memory policy.
MAX_MEMORY_KEYS = 50_000


class BoundedMemoryStorage(MemoryStorage):
    """``limits``' in-process storage with a ceiling on how many keys it holds.

    Every unknown login name gets a failure counter and a rate-limit window, so without a bound
    a flood of made-up names grows the process without end. At the ceiling the oldest key is
    forgotten (dicts keep insertion order): under such a flood an old counter may restart,
    which is the price of staying up; Redis keeps them all.
    """

    def __init__(self, max_keys: int = MAX_MEMORY_KEYS) -> None:
        super().__init__("memory://", wrap_exceptions=True)
        self.max_keys = max_keys

    def _make_room(self, key: str) -> None:
        while (
            key not in self.storage
            and key not in self.events
            and len(self.storage) + len(self.events) >= self.max_keys
        ):
            oldest = next(iter(self.expirations), None) or next(iter(self.events), None)
            if oldest is None:
                return
            self.clear(oldest)

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        self._make_room(key)
        return super().incr(key, expiry, amount)

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        self._make_room(key)
        return super().acquire_entry(key, limit, expiry, amount)

    def size(self) -> int:
        return len(self.storage) + len(self.events)


def account_key(identifier: str) -> str:
    """A fixed-size key for a login name, so the storage never holds what people typed."""
    normalized = identifier.strip().casefold()
    return hashlib.sha256(normalized.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def retry_after(until: float) -> int:
    return max(1, math.ceil(until - time.time()))


@dataclass(frozen=True, slots=True)
class Rules:
    login_ip: RateLimitItem
    login_account: RateLimitItem
    register_ip: RateLimitItem
    sensitive_ip: RateLimitItem
    sensitive_account: RateLimitItem
    not_found_ip: RateLimitItem


class RateLimits:
    def __init__(self, storage: Storage, settings: Settings) -> None:
        self.storage = storage
        self.shared = settings.redis_url is not None  # counters in Redis, not in-process
        self.limiter = MovingWindowRateLimiter(storage)
        self.bulkhead = Bulkhead(
            max_waiting=settings.redis_max_waiting,
            cooldown_seconds=REDIS_COOLDOWN_SECONDS,
            failures=(StorageError,),
        )
        self.rules = Rules(
            login_ip=parse(settings.login_rate_limit),
            login_account=parse(settings.login_account_rate_limit),
            register_ip=parse(settings.register_rate_limit),
            sensitive_ip=parse(settings.sensitive_rate_limit),
            sensitive_account=parse(settings.sensitive_rate_limit),
            not_found_ip=parse(settings.not_found_rate_limit),
        )
        self.lockout_attempts = settings.lockout_attempts
        self.lockout_seconds = settings.lockout_minutes * 60

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        if not settings.redis_url:
            return cls(BoundedMemoryStorage(), settings)
        uri = settings.redis_url
        # redis-py waits forever by default: a frozen Redis would hold every login.
        storage = storage_from_string(
            uri,
            wrap_exceptions=True,
            key_prefix=KEY_PREFIX,
            socket_timeout=settings.redis_socket_timeout_seconds,
            socket_connect_timeout=settings.redis_connect_timeout_seconds,
        )
        if not isinstance(storage, Storage):  # an async+ scheme: not usable from sync handlers
            raise ValueError(f"unsupported rate-limit storage {uri!r}")
        return cls(storage, settings)

    def _hit(self, rule: RateLimitItem, *identifiers: str, metric: str) -> None:
        try:
            with self.bulkhead.call():
                if self.limiter.hit(rule, KEY_PREFIX, *identifiers):
                    return
                reset = self.limiter.get_window_stats(rule, KEY_PREFIX, *identifiers).reset_time
        except (StorageError, DependencyUnavailable) as exc:
            raise _unavailable() from exc
        RATE_LIMIT_REFUSALS.labels(rule=metric).inc()
        # A security event: someone is guessing, or flooding. Identifiers are hashes or IPs.
        logger.warning(
            "rate limit exceeded: %s (%s)", identifiers[0], rule, extra={"security": True}
        )
        raise TooManyRequests(
            "Too many attempts; try again later",
            headers={"Retry-After": str(retry_after(reset))},
        )

    def _per_ip_and_account(
        self,
        name: str,
        ip_rule: RateLimitItem,
        account_rule: RateLimitItem,
        *,
        ip: str,
        account: str,
    ) -> None:
        """Attempts of one client IP, then attempts at one account (by its hash, whether or not
        it exists)."""
        self._hit(ip_rule, f"{name}-ip", ip, metric=f"{name}-ip")
        key = account_key(account)
        self._hit(account_rule, f"{name}-account", key, metric=f"{name}-account")

    def check_login(self, *, ip: str, identifier: str) -> None:
        rules = self.rules
        self._per_ip_and_account(
            "login", rules.login_ip, rules.login_account, ip=ip, account=identifier
        )

    def check_register(self, *, ip: str, email: str) -> None:
        rules = self.rules
        self._per_ip_and_account(
            "register", rules.register_ip, rules.register_ip, ip=ip, account=email
        )

    def check_sensitive(self, scope: str, *, ip: str, account: str | None = None) -> None:
        """Setup, refresh and password change: per client IP, and per account when known."""
        self._hit(self.rules.sensitive_ip, scope, "ip", ip, metric=f"{scope}-ip")
        if account is not None:
            self._hit(
                self.rules.sensitive_account,
                scope,
                "account",
                account_key(account),
                metric=f"{scope}-account",
            )

    def check_not_found(self, *, ip: str) -> None:
        """Count a 404 for the client: many in a row are someone walking ids (429 past the
        limit). Fails open: a broken storage must not turn "not found" into an error."""
        try:
            self._hit(self.rules.not_found_ip, "not-found-ip", ip, metric="not-found-ip")
        except AppError as exc:
            if exc.status == 429:
                raise
            return

    # Lockout for names that match no account: counted here, not in the users table, so a
    # locked answer (423) looks the same whether or not the account exists.

    def unknown_account_lock(self, identifier: str) -> float | None:
        """Epoch second the lock on an unknown name ends, or ``None`` when not locked."""
        key = f"{KEY_PREFIX}/lock/{account_key(identifier)}"
        try:
            with self.bulkhead.call():
                if self.storage.get(key) > 0:
                    return self.storage.get_expiry(key)
        except (StorageError, DependencyUnavailable) as exc:
            raise _unavailable() from exc
        return None

    def record_unknown_failure(self, identifier: str) -> bool:
        """Count a failed login against an unknown name; ``True`` when this one locks it."""
        name = account_key(identifier)
        counter = f"{KEY_PREFIX}/failures/{name}"
        try:
            with self.bulkhead.call():
                failures = self.storage.incr(counter, UNKNOWN_ACCOUNT_COUNTER_SECONDS)
                if failures < self.lockout_attempts:
                    return False
                self.storage.clear(counter)
                self.storage.incr(f"{KEY_PREFIX}/lock/{name}", self.lockout_seconds)
        except (StorageError, DependencyUnavailable) as exc:
            raise _unavailable() from exc
        return True


def _unavailable() -> AppError:
    return AppError(
        "Rate limiting is unavailable; try again later",
        status=503,
        code="rate_limit_unavailable",
        headers={"Retry-After": str(int(REDIS_COOLDOWN_SECONDS) + 1)},
    )


def locked_error(until_epoch: float) -> Locked:
    return Locked(
        "Account temporarily locked after repeated failed logins",
        headers={"Retry-After": str(retry_after(until_epoch))},
    )
