"""``/account/api-keys``: your own API keys (the same list as the account page's section).

A principal without an account (authentication off) is sent to ``/account``, which explains.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from playdeck.apikeys import service as keys_service
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
from playdeck.web.forms import PostDep, back_to, done
from playdeck.web.params import page_id
from playdeck.web.views import SignedIn, ViewDep

router = APIRouter()


@router.get(OWN_KEYS, response_class=HTMLResponse, response_model=None)
def show_own_keys(page: ViewDep, principal: SignedIn) -> Response:
    """Your API keys (the same list as the account page's section)."""
    if principal.user_id is None:  # authentication is off: /account explains
        return RedirectResponse("/account", status_code=303)
    session, user_id = page.session, principal.user_id
    view = keys_view(session, principal, user_id=user_id, base=OWN_KEYS, back=OWN_KEYS)
    owner = users_service.get_user(session, user_id=user_id)
    return keys_page(page, principal, owner=owner, view=view)


@router.post(OWN_KEYS, response_class=HTMLResponse, response_model=None)
def create_own_key(post: PostDep, principal: SignedIn, form: KeyFormDep) -> Response:
    """Create a key for yourself; the answer shows it, this once."""
    if principal.user_id is None:
        return RedirectResponse("/account", status_code=303)
    user_id = principal.user_id
    return create_key(post, principal, user_id=user_id, base=OWN_KEYS, back=OWN_KEYS, form=form)


@router.get(OWN_KEYS + "/{key_id}/revoke", response_class=HTMLResponse, response_model=None)
def confirm_revoke_own_key(
    key_id: str, page: ViewDep, principal: SignedIn, back: BackQuery = None
) -> Response:
    if principal.user_id is None:
        return RedirectResponse("/account", status_code=303)
    session = page.session
    key = key_of(session, principal, owner_id=principal.user_id, key_id=key_id)
    return revoke_page(
        page.request,
        principal,
        owner=users_service.get_user(session, user_id=principal.user_id),
        key=key,
        action=f"{OWN_KEYS}/{key.id}/revoke",
        back=back_to(back, allowed=OWN_PLACES, default=OWN_KEYS),
        crumbs=[("Account", "/account"), ("API keys", OWN_KEYS)],
    )


@router.post(OWN_KEYS + "/{key_id}/revoke", response_model=None)
def revoke_own_key(
    key_id: str, post: PostDep, principal: SignedIn, back: BackField = ""
) -> Response:
    """Revoke one of your keys now; revoking a revoked key changes nothing."""
    if principal.user_id is None:
        return RedirectResponse("/account", status_code=303)
    keys_service.revoke_user_key(
        post.session,
        principal=principal,
        user_id=principal.user_id,
        key_id=page_id(key_id, what="API key"),
        client=post.client,
    )
    target = back_to(back, allowed=OWN_PLACES, default=OWN_KEYS)
    return done(target + ("#api-keys" if target == "/account" else ""), "api-key-revoked")
