"""Talking to an OpenID provider: discovery, the authorization request (code + PKCE, ``state``,
``nonce``), the code exchange, ID-token validation against the provider's JWKS, userinfo.

Authlib builds the authorization URL and exchanges the code; joserfc (Authlib's JOSE library)
verifies the ID token's signature and Authlib's ``CodeIDToken`` its claims (``iss``, ``aud``,
``azp``, ``exp``, ``iat``, ``nonce``, ``at_hash``). Everything the provider says is refused
unless it checks out; a refusal is a ``SignOnRefused`` with a stable code, logged without
tokens.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from playdeck.errors import AppError
from playdeck.sso.config import Provider

logger = logging.getLogger("playdeck.sso")

HTTP_TIMEOUT = httpx.Timeout(5.0)
METADATA_TTL = 3600.0
# The keys are fetched again at least this often, so that a key the provider withdrew (say,
# after a compromise) stops being accepted without waiting for a token with a new key id.
KEYS_TTL = 3600.0
# An unknown ``kid`` refetches the JWKS (the provider rotated its keys), at most this often, so
# tokens naming made-up key ids cannot make Playdeck hammer the provider.
JWKS_REFETCH_INTERVAL = 10.0
CLOCK_LEEWAY = 60  # seconds of clock skew tolerated on exp / iat
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


class SignOnRefused(AppError):
    """A single sign-on that did not check out (400 unless said otherwise)."""

    def __init__(self, detail: str, *, code: str, status: int = 400) -> None:
        super().__init__(detail, status=status, code=code)


@dataclass(frozen=True, slots=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    algorithms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pending:
    """What the callback must see again: kept in a signed cookie between the two requests."""

    provider: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class Callback:
    """The provider's redirect back: this sign-in's ``pending`` (from its cookie), the
    redirect URI it was sent to, and the ``state`` and ``code`` the provider added."""

    pending: Pending
    redirect_uri: str
    state: str
    code: str


@dataclass(frozen=True, slots=True)
class SignedOn:
    """A validated sign-on: the ID token's claims, completed by userinfo."""

    provider: str
    subject: str
    claims: dict[str, Any]


@dataclass
class _Cached:
    at: float
    value: Any


@dataclass
class ProviderClients:
    """Per-process caches of each provider's discovery document and keys (one per app)."""

    _metadata: dict[str, _Cached] = field(default_factory=dict)
    _keys: dict[str, _Cached] = field(default_factory=dict)
    _refetched: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], float] = time.monotonic

    def metadata(self, provider: Provider) -> Metadata:
        with self._lock:
            cached = self._metadata.get(provider.name)
        if cached is not None and self.clock() - cached.at < METADATA_TTL:
            value: Metadata = cached.value
            return value
        found = _discover(provider)
        with self._lock:
            self._metadata[provider.name] = _Cached(self.clock(), found)
        return found

    def keys(self, provider: Provider, *, refetch: bool = False) -> KeySet:
        """The provider's signing keys. ``refetch``: a token named a key id the cached set
        lacks, so fetch the set again, unless an unknown id already did so very recently. A
        set older than ``KEYS_TTL`` is fetched again in any case."""
        now = self.clock()
        with self._lock:
            cached = self._keys.get(provider.name)
            if refetch:
                last = self._refetched.get(provider.name)
                refetch = last is None or now - last >= JWKS_REFETCH_INTERVAL
                if refetch:
                    self._refetched[provider.name] = now
        if cached is not None and not refetch and now - cached.at < KEYS_TTL:
            value: KeySet = cached.value
            return value
        document = _get_json(self.metadata(provider).jwks_uri, what="the provider's keys")
        try:
            key_set = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise _unavailable("the provider's keys are not a JWK set") from None
        with self._lock:
            self._keys[provider.name] = _Cached(now, key_set)
        return key_set


def _unavailable(why: str) -> SignOnRefused:
    return SignOnRefused(
        f"The sign-in provider cannot be used right now: {why}", code="sso_unavailable", status=502
    )


def _get_json(url: str, *, what: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = httpx.get(url, headers=headers, timeout=HTTP_TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        logger.warning("single sign-on: fetching %s failed: %s", url, type(exc).__name__)
        raise _unavailable(f"{what} could not be fetched") from None
    if response.status_code != 200:
        logger.warning("single sign-on: %s answered %s", url, response.status_code)
        raise _unavailable(f"{what} could not be fetched")
    try:
        data = response.json()
    except ValueError:
        raise _unavailable(f"{what} is not JSON") from None
    if not isinstance(data, dict):
        raise _unavailable(f"{what} is not a JSON object")
    return data


def _discover(provider: Provider) -> Metadata:
    url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    doc = _get_json(url, what="the discovery document")
    # OpenID Connect Discovery 1.0, 4.3: the issuer must be exactly the one configured.
    if doc.get("issuer") != provider.issuer:
        raise _unavailable("the discovery document names another issuer")
    try:
        required = {
            name: str(doc[name])
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        }
    except KeyError as exc:
        raise _unavailable(f"the discovery document lacks {exc.args[0]}") from None
    offered = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(a for a in offered if a in ALGORITHMS)
    if not algorithms:
        raise _unavailable("the provider signs ID tokens with no algorithm Playdeck accepts")
    return Metadata(
        issuer=provider.issuer,
        algorithms=algorithms,
        userinfo_endpoint=doc.get("userinfo_endpoint"),
        end_session_endpoint=doc.get("end_session_endpoint"),
        **required,
    )


@contextmanager
def _oauth(provider: Provider, redirect_uri: str) -> Iterator[OAuth2Client]:
    """Authlib's protocol client over an httpx session (Authlib's own httpx integration wants
    the ``httpx2`` package; its core client takes any session with ``post``)."""
    with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False) as session:
        yield OAuth2Client(
            session,
            client_id=provider.client_id,
            client_secret=provider.secret(),
            scope=" ".join(provider.scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )


def _client_secret_basic(provider: Provider) -> httpx.BasicAuth:
    # RFC 6749 2.3.1: the id and secret are form-encoded before they are joined.
    return httpx.BasicAuth(quote(provider.client_id, safe=""), quote(provider.secret(), safe=""))


def authorization_request(
    clients: ProviderClients, provider: Provider, *, redirect_uri: str
) -> tuple[str, Pending]:
    """The provider's authorization URL for a new sign-in, and what the callback must match."""
    metadata = clients.metadata(provider)
    pending = Pending(
        provider=provider.name,
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
    )
    with _oauth(provider, redirect_uri) as oauth:
        url, _state = oauth.create_authorization_url(
            metadata.authorization_endpoint,
            state=pending.state,
            nonce=pending.nonce,
            code_verifier=pending.code_verifier,
        )
    return str(url), pending


def complete(clients: ProviderClients, provider: Provider, callback: Callback) -> SignedOn:
    """Check ``state``, exchange ``code`` (with the PKCE verifier), validate the ID token, read
    userinfo. Any mismatch is a refusal; a code is exchanged at most once by the provider."""
    if not hmac.compare_digest(callback.state.encode(), callback.pending.state.encode()):
        raise SignOnRefused(
            "This sign-in was not started here (state mismatch); start again.",
            code="sso_state_mismatch",
        )
    metadata = clients.metadata(provider)
    with _oauth(provider, callback.redirect_uri) as oauth:
        try:
            token = oauth.fetch_token(
                metadata.token_endpoint,
                code=callback.code,
                code_verifier=callback.pending.code_verifier,
                redirect_uri=callback.redirect_uri,
                auth=_client_secret_basic(provider),
            )
        except OAuth2Error as exc:
            logger.info("single sign-on via %s: code refused (%s)", provider.name, exc.error)
            raise SignOnRefused(
                "The sign-in provider refused this sign-in (expired or already used code); "
                "start again.",
                code="sso_code_refused",
            ) from None
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("single sign-on via %s: token endpoint: %s", provider.name, exc)
            raise _unavailable("its token endpoint could not be reached") from None
    id_token = token.get("id_token")
    access_token = token.get("access_token")
    if not isinstance(id_token, str) or not isinstance(access_token, str):
        raise SignOnRefused("The provider returned no ID token.", code="sso_no_id_token")
    claims = validate_id_token(
        clients,
        provider,
        id_token,
        nonce=callback.pending.nonce,
        access_token=access_token,
    )
    if metadata.userinfo_endpoint:
        info = _get_json(metadata.userinfo_endpoint, what="userinfo", token=access_token)
        # OpenID Connect Core 5.3.2: userinfo about another subject must not be used.
        if info.get("sub") != claims["sub"]:
            raise SignOnRefused("Userinfo names another subject.", code="sso_userinfo_mismatch")
        # Userinfo completes the ID token, it does not replace it: Entra ID's userinfo, for
        # one, never carries the ``groups`` or ``roles`` its ID tokens do.
        registered = {k: claims[k] for k in CodeIDToken.REGISTERED_CLAIMS if k in claims}
        claims = {**claims, **info, **registered}
    return SignedOn(provider=provider.name, subject=str(claims["sub"]), claims=claims)


def _decode(raw: str, keys: KeySet, algorithms: tuple[str, ...]) -> jwt.Token:
    return jwt.decode(raw, keys, registry=JWSRegistry(algorithms=list(algorithms)))


def validate_id_token(
    clients: ProviderClients,
    provider: Provider,
    raw: str,
    *,
    nonce: str,
    access_token: str | None = None,
) -> dict[str, Any]:
    """The claims of a valid ID token issued to this client for this sign-in; a refusal
    otherwise. A key id the cached JWKS lacks refetches it once (the provider rotated)."""
    metadata = clients.metadata(provider)
    try:
        try:
            token = _decode(raw, clients.keys(provider), metadata.algorithms)
        except InvalidKeyIdError:
            token = _decode(raw, clients.keys(provider, refetch=True), metadata.algorithms)
    except InvalidKeyIdError:
        raise SignOnRefused(
            "The ID token is signed with a key the provider does not publish.",
            code="sso_unknown_key",
        ) from None
    except (JoseError, ValueError) as exc:
        logger.info("single sign-on via %s: ID token refused: %s", provider.name, exc)
        raise SignOnRefused(
            "The ID token's signature is not valid.", code="sso_bad_signature"
        ) from None
    params: dict[str, Any] = {"nonce": nonce, "client_id": provider.client_id}
    if access_token is not None:
        params["access_token"] = access_token
    options = {
        "iss": {"essential": True, "value": metadata.issuer},
        "aud": {"essential": True, "value": provider.client_id},
        "sub": {"essential": True},
    }
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        claims.validate(leeway=CLOCK_LEEWAY)
    except JoseError as exc:
        logger.info("single sign-on via %s: ID token refused: %s", provider.name, exc)
        claim = getattr(exc, "claim", None) or exc.error
        raise SignOnRefused(
            f"The ID token is not valid for this sign-in ({claim}).", code="sso_invalid_id_token"
        ) from None
    if not nonce or claims.get("nonce") != nonce:  # also when the token carries none
        raise SignOnRefused(
            "The ID token is not valid for this sign-in (nonce).", code="sso_invalid_id_token"
        )
    return dict(claims)


def logout_url(
    clients: ProviderClients, provider: Provider, *, post_logout_redirect_uri: str
) -> str | None:
    """RP-initiated logout at the provider, when it offers it (``end_session_endpoint``)."""
    try:
        metadata = clients.metadata(provider)
    except SignOnRefused:
        return None  # Playdeck's session is over either way
    if not metadata.end_session_endpoint:
        return None
    query = httpx.QueryParams(
        client_id=provider.client_id, post_logout_redirect_uri=post_logout_redirect_uri
    )
    return str(httpx.URL(metadata.end_session_endpoint).copy_merge_params(query))
