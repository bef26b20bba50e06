"""ID-token validation against a provider's JWKS, with tokens this test signs itself: a real
local HTTP server publishes the discovery document and the keys (and rotates them), because a
real provider cannot be made to issue a token for another audience, an expired one or one
signed by a key it retired."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from playdeck.sso.client import KEYS_TTL, ProviderClients, SignOnRefused, validate_id_token
from playdeck.sso.config import Provider

NONCE = "n-0123456789"
CLIENT_ID = "playdeck"


@dataclass
class KeyServer:
    """What the local provider publishes; tests change ``keys`` to rotate."""

    issuer: str = ""
    keys: list[RSAKey] = field(default_factory=list)
    jwks_fetches: int = 0


def _handler(published: KeyServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                body: dict[str, Any] = {
                    "issuer": published.issuer,
                    "authorization_endpoint": f"{published.issuer}/auth",
                    "token_endpoint": f"{published.issuer}/token",
                    "jwks_uri": f"{published.issuer}/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            elif self.path == "/jwks":
                published.jwks_fetches += 1
                body = {"keys": [key.as_dict(private=False) for key in published.keys]}
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    return Handler


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    published = KeyServer(keys=[_key("key-1")])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(published))
    published.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield published
    server.shutdown()
    server.server_close()
    thread.join(5)


def _key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def _provider(issuer: str) -> Provider:
    return Provider(
        name="local",
        label="Local",
        issuer=issuer,
        client_id=CLIENT_ID,
        client_secret="local-client-secret",
    )


def _token(key: RSAKey, issuer: str, **claims: Any) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": issuer,
        "sub": "user-1",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    header = {"alg": "RS256", "kid": key.kid}
    return jwt.encode(header, payload, key)


def _refusal(server: KeyServer, token: str, clients: ProviderClients | None = None) -> str:
    with pytest.raises(SignOnRefused) as refused:
        validate_id_token(
            clients or ProviderClients(), _provider(server.issuer), token, nonce=NONCE
        )
    return f"{refused.value.code}: {refused.value.detail}"


def test_a_valid_id_token_gives_its_claims(key_server: KeyServer) -> None:
    token = _token(key_server.keys[0], key_server.issuer, email="a@example.com")
    claims = validate_id_token(ProviderClients(), _provider(key_server.issuer), token, nonce=NONCE)
    assert claims["sub"] == "user-1" and claims["email"] == "a@example.com"


def test_a_wrong_nonce_is_refused(key_server: KeyServer) -> None:
    token = _token(key_server.keys[0], key_server.issuer, nonce="another sign-in's")
    assert _refusal(key_server, token).startswith("sso_invalid_id_token")


def test_a_token_without_a_nonce_is_refused(key_server: KeyServer) -> None:
    token = _token(key_server.keys[0], key_server.issuer, nonce=None)
    assert _refusal(key_server, token).startswith("sso_invalid_id_token")


def test_a_token_for_another_audience_is_refused(key_server: KeyServer) -> None:
    token = _token(key_server.keys[0], key_server.issuer, aud="other-app")
    assert _refusal(key_server, token) == (
        "sso_invalid_id_token: The ID token is not valid for this sign-in (aud)."
    )


def test_a_token_naming_another_authorized_party_is_refused(key_server: KeyServer) -> None:
    token = _token(key_server.keys[0], key_server.issuer, aud=[CLIENT_ID, "x"], azp="x")
    assert _refusal(key_server, token).startswith("sso_invalid_id_token")


def test_an_expired_token_is_refused(key_server: KeyServer) -> None:
    long_ago = int(time.time()) - 3600
    token = _token(key_server.keys[0], key_server.issuer, iat=long_ago, exp=long_ago + 300)
    assert _refusal(key_server, token).startswith("sso_invalid_id_token")


def test_a_token_from_another_issuer_is_refused(key_server: KeyServer) -> None:
    token = _token(key_server.keys[0], "https://idp.elsewhere.test")
    assert _refusal(key_server, token).startswith("sso_invalid_id_token")


def test_a_rotated_key_is_fetched_and_a_rotated_out_key_is_refused(
    key_server: KeyServer,
) -> None:
    clients = ProviderClients()
    provider = _provider(key_server.issuer)
    old = key_server.keys[0]
    validate_id_token(clients, provider, _token(old, key_server.issuer), nonce=NONCE)
    assert key_server.jwks_fetches == 1

    new = _key("key-2")
    key_server.keys = [new]  # the provider rotates: key-1 is retired
    claims = validate_id_token(clients, provider, _token(new, key_server.issuer), nonce=NONCE)
    assert claims["sub"] == "user-1"
    assert key_server.jwks_fetches == 2  # the unknown kid refetched the set

    refused = _refusal(key_server, _token(old, key_server.issuer), clients)
    assert refused.startswith("sso_unknown_key")
    assert key_server.jwks_fetches == 2  # no refetch storm for made-up or retired kids


def test_a_token_signed_by_another_key_under_a_published_kid_is_refused(
    key_server: KeyServer,
) -> None:
    impostor = _key("key-1")  # same kid, different key
    assert _refusal(key_server, _token(impostor, key_server.issuer)).startswith("sso_bad_signature")


def test_an_unsigned_token_is_refused(key_server: KeyServer) -> None:
    header = {"alg": "none"}
    payload = {"iss": key_server.issuer, "sub": "u", "aud": CLIENT_ID, "nonce": NONCE}

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    assert _refusal(key_server, f"{part(header)}.{part(payload)}.").startswith("sso_bad_signature")


def test_a_withdrawn_key_is_refused_once_the_cached_keys_expire(key_server: KeyServer) -> None:
    """A provider that withdraws a key without introducing a new one (a compromise): tokens
    signed with it stop being accepted within ``KEYS_TTL``, with no restart."""
    now = [1000.0]
    clients = ProviderClients(clock=lambda: now[0])
    provider = _provider(key_server.issuer)
    old = key_server.keys[0]
    validate_id_token(clients, provider, _token(old, key_server.issuer), nonce=NONCE)
    key_server.keys = [_key("key-2")]  # key-1 withdrawn

    now[0] += KEYS_TTL - 1
    validate_id_token(clients, provider, _token(old, key_server.issuer), nonce=NONCE)
    assert key_server.jwks_fetches == 1  # still within the cache's lifetime

    now[0] += 2
    assert _refusal(key_server, _token(old, key_server.issuer), clients).startswith(
        "sso_unknown_key"
    )
    assert key_server.jwks_fetches == 3  # the expired set, then once more for the unknown kid
