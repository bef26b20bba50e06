"""``/auth/sso/{provider}`` and its callback: signing in through an OpenID provider.

The first sends the browser to the provider with a fresh ``state``, ``nonce`` and PKCE
challenge (remembered in a signed cookie, ``sso.flow``); the callback checks them, exchanges the
code, validates the ID token and signs the person in with the same session cookie a password
sign-in sets. Refusals render as error pages (problem details for API clients).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from playdeck.auth.client import ClientInfo
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.endpoints import AttemptDep
from playdeck.auth.principal import Principal
from playdeck.auth.sessions import secret_of
from playdeck.auth.transport import clear_cookie, cookie_name, cookie_secure, set_cookie
from playdeck.deps import BaseUrlDep, SessionDep, SettingsDep
from playdeck.errors import NotFound
from playdeck.settings import Settings
from playdeck.sso import client as oidc
from playdeck.sso import flow
from playdeck.sso import service as sso_service
from playdeck.sso.client import ProviderClients, SignOnRefused
from playdeck.sso.config import Provider
from playdeck.web.identity import (
    NO_STORE,
    Public,
    ViewerDep,
    disabled_page,
    landing_page,
    signed_in_redirect,
)
from playdeck.web.redirects import safe_next
from playdeck.web.rendering import set_flash
from playdeck.web.sso_logout import ClientsDep

router = APIRouter()

# What a provider's error code may look like before it is shown (RFC 6749: a token).
MAX_PROVIDER_ERROR = 64


def sso_provider(settings: Settings, name: str) -> Provider:
    found = settings.sso.provider(name)
    if found is None:
        raise NotFound("No such sign-in provider", code="sso_unknown_provider")
    return found


def callback_uri(links: str, provider: Provider) -> str:
    """The redirect URI to register at the provider: ``<public URL>/auth/sso/<name>/callback``
    (``links``: ``deps.BaseUrlDep``)."""
    return f"{links}/auth/sso/{provider.name}/callback"


def redirect_to_provider(
    links: str,
    settings: Settings,
    client: ClientInfo,
    clients: ProviderClients,
    provider: Provider,
    *,
    next_path: str | None = None,
    invitation: str | None = None,
) -> RedirectResponse:
    """The redirect to ``provider``'s authorization endpoint, with the cookie that remembers
    this sign-in (and the invitation it accepts, if any) until the callback."""
    url, pending = oidc.authorization_request(
        clients, provider, redirect_uri=callback_uri(links, provider)
    )
    response = RedirectResponse(url, status_code=303, headers=NO_STORE)
    started = flow.Flow(pending=pending, next_path=next_path, invitation=invitation)
    set_cookie(
        response,
        flow.FLOW_COOKIE,
        flow.seal(started, secret_key=secret_of(settings)),
        max_age=int(flow.FLOW_LIFETIME.total_seconds()),
        secure=cookie_secure(settings, client),
    )
    return response


@router.get("/auth/sso/{provider}", response_model=None)
def start_sso(
    request: Request,
    settings: SettingsDep,
    links: BaseUrlDep,
    client: ClientDep,
    clients: ClientsDep,
    principal: ViewerDep,
    _public: Public,
    provider: str,
    next_path: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
) -> Response:
    """Start signing in through ``provider``: a redirect to its authorization endpoint."""
    if not settings.require_auth:
        return disabled_page(request, principal, what="Signing in", status_code=404)
    found = sso_provider(settings, provider)
    return redirect_to_provider(
        links, settings, client, clients, found, next_path=safe_next(next_path)
    )


@router.get("/auth/sso/{provider}/callback", response_model=None)
def finish_sso(
    request: Request,
    links: BaseUrlDep,
    session: SessionDep,
    attempt: AttemptDep,
    clients: ClientsDep,
    _public: Public,
    provider: str,
    state: Annotated[str, Query(max_length=512)] = "",
    code: Annotated[str, Query(max_length=4096)] = "",
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    """The provider's redirect back: check it, sign the person in, go where they were going.

    Nothing reads the database before the provider has answered: no transaction or pooled
    connection is held across the calls to it."""
    settings, client = attempt.settings, attempt.client
    if not settings.require_auth:
        return disabled_page(request, Principal.builtin_admin(), what="Signing in", status_code=404)
    found = sso_provider(settings, provider)
    secure = cookie_secure(settings, client)
    started = flow.unseal(
        request.cookies.get(cookie_name(flow.FLOW_COOKIE, secure=secure)),
        provider=found.name,
        secret_key=secret_of(settings),
    )
    if error is not None:
        shown = "".join(c for c in error if c.isalnum() or c == "_")[:MAX_PROVIDER_ERROR]
        raise SignOnRefused(f"The provider did not sign you in ({shown}).", code="sso_denied")
    if not code:
        raise SignOnRefused("The provider sent no authorization code.", code="sso_no_code")
    issued = sso_service.complete_sign_on(
        session,
        attempt=attempt,
        clients=clients,
        provider=found,
        callback=oidc.Callback(
            pending=started.pending,
            redirect_uri=callback_uri(links, found),
            state=state,
            code=code,
        ),
        invitation=started.invitation,
    )
    response = signed_in_redirect(
        issued, started.next_path or landing_page(issued), settings=settings, client=client
    )
    if started.invitation is not None:
        set_flash(response, "invitation-accepted-sso")
    clear_cookie(response, flow.FLOW_COOKIE, secure=secure)
    return response
