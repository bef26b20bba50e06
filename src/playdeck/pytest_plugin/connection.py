"""Where the plugin's requests go and as whom; importable without httpx."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_RETRIES = 4  # with backoff, within the sender's time budget


@dataclass(frozen=True, slots=True)
class Connection:
    """The server and the credential (an API key, or a username and password), the longest
    wait and the retries of a transient failure: what every request the plugin sends is made
    with (the run's upload, a live run, the quarantine list)."""

    server: str
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    retries: int = DEFAULT_RETRIES
