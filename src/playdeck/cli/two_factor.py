"""``playdeck two-factor rekey``: after rotating ``PLAYDECK_SECRET_KEY``, every stored TOTP
secret encrypted again under the new key at once, instead of as each user next signs in, so
the retired key can leave ``PLAYDECK_PREVIOUS_SECRET_KEYS`` (docs/operations.md, "Rotating the
secret key"). Safe beside running servers: a secret changed meanwhile is left as they wrote it.
"""

from __future__ import annotations

import typer

from playdeck.audit.service import Actor
from playdeck.cli.config import fail
from playdeck.cli.users import cli_settings, database_session, out
from playdeck.twofactor.rekey import rekey_all

two_factor_app = typer.Typer(
    help="Two-factor authentication's stored secrets (works without a running server).",
    no_args_is_help=True,
)


@two_factor_app.command("rekey")
def rekey() -> None:
    """Encrypt every stored two-factor secret under PLAYDECK_SECRET_KEY, reading old ones with
    PLAYDECK_PREVIOUS_SECRET_KEYS. Audited. Exits 1 when some secret no key opens (those users
    need `playdeck users reset-two-factor`)."""
    if cli_settings().secret_key is None:
        raise fail("PLAYDECK_SECRET_KEY is not set: there is no key to encrypt under")
    with database_session() as session:
        done = rekey_all(session, settings=cli_settings(), actor=Actor.cli())
    out.print(f"re-encrypted under the current key: {done.reencrypted}", highlight=False)
    out.print(f"already under the current key: {done.current}", highlight=False)
    out.print(f"not decryptable under any key: {len(done.undecryptable)}", highlight=False)
    if done.undecryptable:
        raise fail(
            "no key opens the two-factor secret of "
            + ", ".join(repr(name) for name in done.undecryptable)
            + ": add the key it was encrypted under to PLAYDECK_PREVIOUS_SECRET_KEYS and run "
            "this again, or remove it with `playdeck users reset-two-factor USER`"
        )
