"""Where ``/logout`` sends a browser whose session came through single sign-on: to the
provider's ``end_session_endpoint`` (RP-initiated logout), which returns it to ``/login``, when
the provider offers one; else to ``/login`` as for everyone."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from playdeck.auth.principal import Principal
from playdeck.sso import client as oidc
from playdeck.sso import repository
from playdeck.sso.client import ProviderClients
from playdeck.web.views import PageView


def provider_clients(request: Request) -> ProviderClients:
    """The app's caches of discovery documents and keys (``app.state.sso_clients``)."""
    clients: ProviderClients = request.app.state.sso_clients
    return clients


ClientsDep = Annotated[ProviderClients, Depends(provider_clients)]


def after_logout(view: PageView, principal: Principal) -> str | None:
    """The provider's logout URL for this session, read before the session ends."""
    if principal.session_id is None:
        return None
    name = repository.session_provider(view.session, principal.session_id)
    provider = view.settings.sso.provider(name) if name else None
    if provider is None:
        return None
    return oidc.logout_url(
        provider_clients(view.request),
        provider,
        post_logout_redirect_uri=f"{view.links}/login",
    )
