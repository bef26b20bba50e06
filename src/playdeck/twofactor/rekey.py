"""Stored TOTP secrets moved to the current ``PLAYDECK_SECRET_KEY`` after a rotation: one at
a time as they are used (``renew``, in the transaction of the sign-in that proved a right code),
or all at once (``rekey_all``, ``playdeck two-factor rekey``), audited."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Actor, Trail
from playdeck.settings import Settings
from playdeck.twofactor import cipher, repository
from playdeck.twofactor.cipher import Cipher, Opened


def renew(
    session: Session, box: Cipher, *, authenticator_id: int, ciphertext: str, opened: Opened
) -> None:
    """Write a secret read under a previous key again under the current one."""
    if opened.stale:
        repository.replace_ciphertext(
            session, authenticator_id, old=ciphertext, new=box.encrypt(opened.secret)
        )


@dataclass(frozen=True, slots=True)
class Rekeyed:
    reencrypted: int
    current: int
    # Users whose secret no key opens: only ``playdeck users reset-two-factor`` helps them.
    undecryptable: list[str] = field(default_factory=list)


def rekey_all(session: Session, *, settings: Settings, actor: Actor) -> Rekeyed:
    """Every stored secret under the current key; flushes, the caller commits."""
    box = cipher.of(settings)
    reencrypted = current = 0
    undecryptable: list[str] = []
    for authenticator_id, username, ciphertext in repository.stored_ciphertexts(session):
        opened = box.open(ciphertext)
        if opened is None:
            undecryptable.append(username)
        elif not opened.stale:
            current += 1
        elif repository.replace_ciphertext(
            session, authenticator_id, old=ciphertext, new=box.encrypt(opened.secret)
        ):
            reencrypted += 1
        else:  # written meanwhile by a server, which writes under the current key
            current += 1
    Trail(session, actor).record(
        Action.TWO_FACTOR_REKEYED,
        reencrypted=reencrypted,
        already_current=current,
        undecryptable=len(undecryptable),
        undecryptable_users=undecryptable,
    )
    return Rekeyed(reencrypted=reencrypted, current=current, undecryptable=undecryptable)
