"""The one-time setup token that guards an empty instance (the pattern of Jenkins and Grafana).

While no user exists, whoever creates the first account becomes its administrator, through
``POST /api/auth/setup`` or, with registration on, the first registration. So that is not simply
whoever comes first, such a request must either come from the server's own machine or carry the
token that the server printed in its log at start (``X-Setup-Token`` header, or the
``setup_token`` field of the ``/setup`` and ``/register`` forms). Once a user exists the token
is useless: setup answers 409 and registration makes plain users.

*Local* means the TCP peer is a loopback address and the request carries no forwarding header:
a reverse proxy on the same machine forwards strangers, and its ``X-Forwarded-For`` (or
``Forwarded``, ``X-Real-IP``) gives it away.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import secrets
from typing import Annotated

from fastapi import Depends, Header, Request

logger = logging.getLogger("playdeck.auth")

SETUP_TOKEN_HEADER = "X-Setup-Token"  # noqa: S105 - a header name
SETUP_TOKEN_FIELD = "setup_token"  # noqa: S105 - a form field name
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


class SetupToken:
    """The instance's token, never stored. It is derived from the signing secret, so that every
    worker process and every instance behind a proxy prints and accepts the same one; without a
    secret (authentication off, where no setup is needed) it is random."""

    def __init__(self, secret: str | None) -> None:
        if secret:
            digest = hmac.new(secret.encode(), b"playdeck setup token", hashlib.sha256).digest()
            self.value = base64.urlsafe_b64encode(digest[:24]).decode()
        else:
            self.value = secrets.token_urlsafe(24)

    def matches(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(
            str(presented).strip().encode(), self.value.encode()
        )

    def announce(self) -> None:
        logger.warning(
            "No user exists yet. Create the first administrator at /setup or with POST "
            "/api/auth/setup; from another machine, give this one-time setup token "
            "(form field or %s header): %s",
            SETUP_TOKEN_HEADER,
            self.value,
        )


def is_local(request: Request) -> bool:
    """A request from the server's own machine, not relayed by a proxy."""
    if request.client is None:
        return False
    try:
        peer = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return peer.is_loopback and not any(h in request.headers for h in FORWARDING_HEADERS)


def may_create_first_user(request: Request, presented: str | None) -> bool:
    """Whether this request may create the first account of an empty instance."""
    token: SetupToken = request.app.state.setup_token
    return is_local(request) or token.matches(presented)


def setup_proof(
    request: Request,
    x_setup_token: Annotated[
        str | None,
        Header(
            alias=SETUP_TOKEN_HEADER,
            max_length=200,
            description="The setup token from the server log; needed while no user exists, "
            "unless the request comes from the server's own machine.",
        ),
    ] = None,
) -> bool:
    return may_create_first_user(request, x_setup_token)


SetupProofDep = Annotated[bool, Depends(setup_proof)]
