"""``/account/api-keys``: your own API keys (the same list as the account page's section).

A principal without an account (authentication off) is sent to ``/account``, which explains.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from playdeck.apikeys import service as keys_service
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep, SettingsDep
from playdeck.users import service as users_service
from playdeck.web.api_keys import (
    OWN_KEYS,
    OWN_PLACES,
    BackField,
    BackQuery,
    KeyFormDep,
    create_key,
    key_of,
    keys_page,
    keys_view,
    revoke_page,
)
from playdeck.web.forms import back_to, done
from playdeck.web.params import page_id

router = APIRouter()

SignedIn = Annotated[Principal, authorize(Permission.AUTHENTICATED)]


@router.get(OWN_KEYS, response_class=HTMLResponse, response_model=None)
def show_own_keys(
    request: Request, session: SessionDep, settings: SettingsDep, principal: SignedIn
) -> Response:
    """Your API keys (the same list as the account page's section)."""
    if principal.user_id is None:  # authentication is off: /account explains
        return RedirectResponse("/account", status_code=303)
    view = keys_view(session, principal, user_id=principal.user_id, base=OWN_KEYS, back=OWN_KEYS)
    owner = users_service.get_user(session, user_id=principal.user_id)
    return keys_page(request, settings, principal, owner=owner, view=view)


@router.post(OWN_KEYS, response_class=HTMLResponse, response_model=None)
def create_own_key(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: SignedIn,
    form: KeyFormDep,
) -> Response:
    """Create a key for yourself; the answer shows it, this once."""
    if principal.user_id is None:
        return RedirectResponse("/account", status_code=303)
    return create_key(
        request,
        session,
        settings,
        client,
        principal,
        user_id=principal.user_id,
        base=OWN_KEYS,
        back=OWN_KEYS,
        form=form,
    )


@router.get(OWN_KEYS + "/{key_id}/revoke", response_class=HTMLResponse, response_model=None)
def confirm_revoke_own_key(
    key_id: str,
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    back: BackQuery = None,
) -> Response:
    if principal.user_id is None:
        return RedirectResponse("/account", status_code=303)
    key = key_of(session, principal, owner_id=principal.user_id, key_id=key_id)
    return revoke_page(
        request,
        principal,
        owner=users_service.get_user(session, user_id=principal.user_id),
        key=key,
        action=f"{OWN_KEYS}/{key.id}/revoke",
        back=back_to(back, allowed=OWN_PLACES, default=OWN_KEYS),
        crumbs=[("Account", "/account"), ("API keys", OWN_KEYS)],
    )


@router.post(OWN_KEYS + "/{key_id}/revoke", response_model=None)
def revoke_own_key(
    key_id: str,
    session: SessionDep,
    client: ClientDep,
    principal: SignedIn,
    back: BackField = "",
) -> Response:
    """Revoke one of your keys now; revoking a revoked key changes nothing."""
    if principal.user_id is None:
        return RedirectResponse("/account", status_code=303)
    keys_service.revoke_user_key(
        session,
        principal=principal,
        user_id=principal.user_id,
        key_id=page_id(key_id, what="API key"),
        client=client,
    )
    target = back_to(back, allowed=OWN_PLACES, default=OWN_KEYS)
    return done(target + ("#api-keys" if target == "/account" else ""), "api-key-revoked")
