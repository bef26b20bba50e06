"""Rate limits and the lockout counter for unknown accounts, on one ``limits`` storage.

The storage is in-process by default and Redis when ``PLAYDECK_REDIS_URL`` is set, so several
Playdeck processes share counters. Every check here runs before any password hashing: hashing is
deliberately slow, and refusing early is what keeps a flood cheap. When the storage itself fails
(Redis down) the sensitive endpoints fail closed with 503 rather than run unlimited.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from playdeck.errors import AppError, Locked, TooManyRequests
from playdeck.kit.bulkhead import Bulkhead, DependencyUnavailable
from playdeck.settings import Settings

# How long failures against an unknown name are remembered before they start over.
UNKNOWN_ACCOUNT_COUNTER_SECONDS = 24 * 60 * 60
KEY_PREFIX = "playdeck"
# After a Redis failure, how long every check answers 503 at once before trying Redis again.
REDIS_COOLDOWN_SECONDS = 2.0


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
        )
        self.lockout_attempts = settings.lockout_attempts
        self.lockout_seconds = settings.lockout_minutes * 60

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        uri = settings.redis_url or "memory://"
        options: dict[str, float | str | bool] = {"wrap_exceptions": True}
        if settings.redis_url:
            options["key_prefix"] = KEY_PREFIX
            # redis-py waits forever by default: a frozen Redis would hold every login.
            options["socket_timeout"] = settings.redis_socket_timeout_seconds
            options["socket_connect_timeout"] = settings.redis_connect_timeout_seconds
        storage = storage_from_string(uri, **options)
        if not isinstance(storage, Storage):  # an async+ scheme: not usable from sync handlers
            raise ValueError(f"unsupported rate-limit storage {uri!r}")
        return cls(storage, settings)

    def _hit(self, rule: RateLimitItem, *identifiers: str) -> None:
        try:
            with self.bulkhead.call():
                if self.limiter.hit(rule, KEY_PREFIX, *identifiers):
                    return
                reset = self.limiter.get_window_stats(rule, KEY_PREFIX, *identifiers).reset_time
        except (StorageError, DependencyUnavailable) as exc:
            raise _unavailable() from exc
        raise TooManyRequests(
            "Too many attempts; try again later",
            headers={"Retry-After": str(retry_after(reset))},
        )

    def check_login(self, *, ip: str, identifier: str) -> None:
        self._hit(self.rules.login_ip, "login-ip", ip)
        self._hit(self.rules.login_account, "login-account", account_key(identifier))

    def check_register(self, *, ip: str, email: str) -> None:
        self._hit(self.rules.register_ip, "register-ip", ip)
        self._hit(self.rules.register_ip, "register-account", account_key(email))

    def check_sensitive(self, scope: str, *, ip: str, account: str | None = None) -> None:
        """Setup, refresh and password change: per client IP, and per account when known."""
        self._hit(self.rules.sensitive_ip, scope, "ip", ip)
        if account is not None:
            self._hit(self.rules.sensitive_account, scope, "account", account_key(account))

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
