"""``/admin/users/{id}/keys``: anyone's API keys, for administrators (the key icon of the
users list). A key created here acts with its owner's rights, never the administrator's.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from playdeck.apikeys import service as keys_service
from playdeck.web.admin_users import Admin, TargetUser
from playdeck.web.api_keys import (
    KeyFormDep,
    create_key,
    key_of,
    keys_page,
    keys_view,
    revoke_page,
)
from playdeck.web.forms import PostDep, done
from playdeck.web.params import page_id
from playdeck.web.views import ViewDep

router = APIRouter()


def _user_keys_base(user_id: int) -> str:
    return f"/admin/users/{user_id}/keys"


@router.get("/admin/users/{user_id}/keys", response_class=HTMLResponse)
def show_user_keys(page: ViewDep, principal: Admin, owner: TargetUser) -> HTMLResponse:
    base = _user_keys_base(owner.id)
    view = keys_view(page.session, principal, user_id=owner.id, base=base, back=base)
    return keys_page(page, principal, owner=owner, view=view)


@router.post("/admin/users/{user_id}/keys", response_class=HTMLResponse, response_model=None)
def create_user_key(
    post: PostDep, principal: Admin, owner: TargetUser, form: KeyFormDep
) -> Response:
    """Create a key for this user (it acts with their rights); the answer shows it once."""
    base = _user_keys_base(owner.id)
    return create_key(post, principal, user_id=owner.id, base=base, back=base, form=form)


@router.get("/admin/users/{user_id}/keys/{key_id}/revoke", response_class=HTMLResponse)
def confirm_revoke_user_key(
    key_id: str, page: ViewDep, principal: Admin, owner: TargetUser
) -> HTMLResponse:
    key = key_of(page.session, principal, owner_id=owner.id, key_id=key_id)
    base = _user_keys_base(owner.id)
    return revoke_page(
        page.request,
        principal,
        owner=owner,
        key=key,
        action=f"{base}/{key.id}/revoke",
        back=base,
        crumbs=[("Users", "/admin/users"), (owner.username, base)],
    )


@router.post("/admin/users/{user_id}/keys/{key_id}/revoke", response_model=None)
def revoke_user_key(key_id: str, post: PostDep, principal: Admin, owner: TargetUser) -> Response:
    keys_service.revoke_user_key(
        post.session,
        principal=principal,
        user_id=owner.id,
        key_id=page_id(key_id, what="API key"),
        client=post.client,
    )
    return done(_user_keys_base(owner.id), "api-key-revoked")
