"""The two-factor service against a real database (SQLite; PostgreSQL with
PLAYDECK_TEST_DATABASE_URL): what is stored, enrolment, recovery codes, turning it off, resets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Actor
from playdeck.auth.attempt import Attempt
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import CredentialKind, GlobalRole, Principal
from playdeck.auth.rate_limit import RateLimits
from playdeck.errors import AppError
from playdeck.models import AuditEvent, TwoFactorAuthenticator, TwoFactorRecoveryCode, User
from playdeck.settings import Settings
from playdeck.twofactor import recovery, service, totp
from playdeck.twofactor.enforcement import must_enrol
from tests.auth.support import PASSWORD

START = datetime.fromtimestamp(1_900_000_020, UTC)


@pytest.fixture
def attempt(auth_settings: Callable[..., Settings]) -> Attempt:
    settings = auth_settings()
    return Attempt(
        settings=settings,
        limits=RateLimits.from_settings(settings),
        client=ClientInfo(ip="192.0.2.7", user_agent="tests", is_https=False),
    )


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def _principal(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=GlobalRole(user.role),
        credential=CredentialKind.SESSION,
        session_id=1,
    )


def _enrol(db: Session, attempt: Attempt, user: User) -> tuple[str, list[str]]:
    principal = _principal(user)
    started = service.start_enrolment(db, attempt=attempt, principal=principal, password=PASSWORD)
    code = totp.code_at(started.secret, totp.step_at(START))
    codes = service.confirm_enrolment(db, attempt=attempt, principal=principal, code=code)
    db.commit()
    return started.secret, codes


def _actions(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_nothing_stored_can_be_used_as_it_is(
    db: Session, attempt: Attempt, make_user: Callable[..., User]
) -> None:
    alice = make_user()
    with time_machine.travel(START, tick=False):
        secret, codes = _enrol(db, attempt, alice)
    row = db.scalars(select(TwoFactorAuthenticator)).one()
    assert secret not in row.secret_ciphertext and row.confirmed_at is not None
    assert row.last_used_step == totp.step_at(START)
    stored = set(db.scalars(select(TwoFactorRecoveryCode.code_hash)))
    assert stored == {recovery.hash_code(code) for code in codes}
    assert not stored & {recovery.normalize(code) for code in codes}
    assert _actions(db)[-1] == Action.TWO_FACTOR_ENABLED
    logged = " ".join(str(details) for details in db.scalars(select(AuditEvent.details)))
    assert secret not in logged and not any(code in logged for code in codes)


def test_enrolment_needs_the_password_and_a_right_first_code(
    db: Session, attempt: Attempt, make_user: Callable[..., User]
) -> None:
    alice = make_user()
    principal = _principal(alice)
    with pytest.raises(AppError) as wrong_password:
        service.start_enrolment(db, attempt=attempt, principal=principal, password="not mine")
    assert wrong_password.value.code == "invalid_current_password"
    with time_machine.travel(START, tick=False):
        started = service.start_enrolment(
            db, attempt=attempt, principal=principal, password=PASSWORD
        )
        assert service.status(db, settings=attempt.settings, user=alice).pending
        late = totp.code_at(started.secret, totp.step_at(START) - 2)
        with pytest.raises(AppError) as wrong_code:
            service.confirm_enrolment(db, attempt=attempt, principal=principal, code=late)
        assert wrong_code.value.code == "invalid_two_factor_code"
        state = service.status(db, settings=attempt.settings, user=alice)
        assert state.pending and not state.enabled
        # Shown again until confirmed (a mistyped code), the same key.
        again = service.pending_enrolment(db, settings=attempt.settings, user=alice)
        assert again is not None and again.secret == started.secret


def test_new_recovery_codes_replace_the_old_ones(
    db: Session, attempt: Attempt, make_user: Callable[..., User]
) -> None:
    alice = make_user()
    with time_machine.travel(START, tick=False):
        _secret, old = _enrol(db, attempt, alice)
    new = service.regenerate_recovery_codes(
        db, attempt=attempt, principal=_principal(alice), password=PASSWORD
    )
    db.commit()
    stored = set(db.scalars(select(TwoFactorRecoveryCode.code_hash)))
    assert stored == {recovery.hash_code(code) for code in new}
    assert not stored & {recovery.hash_code(code) for code in old}
    assert _actions(db)[-1] == Action.TWO_FACTOR_RECOVERY_CODES_REGENERATED


def test_turning_it_off_needs_the_password_and_is_refused_to_held_admins(
    db: Session,
    attempt: Attempt,
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    root = make_user("root", role="admin")
    with time_machine.travel(START, tick=False):
        _enrol(db, attempt, root)
    with pytest.raises(AppError) as wrong:
        service.disable(db, attempt=attempt, principal=_principal(root), password="nope")
    assert wrong.value.code == "invalid_current_password"
    strict = Attempt(
        settings=auth_settings(require_two_factor_for_admins=True),
        limits=attempt.limits,
        client=attempt.client,
    )
    with pytest.raises(AppError) as held:
        service.disable(db, attempt=strict, principal=_principal(root), password=PASSWORD)
    assert held.value.code == "two_factor_required"
    service.disable(db, attempt=attempt, principal=_principal(root), password=PASSWORD)
    db.commit()
    assert db.scalars(select(TwoFactorAuthenticator)).all() == []
    assert db.scalars(select(TwoFactorRecoveryCode)).all() == []
    assert _actions(db)[-1] == Action.TWO_FACTOR_DISABLED


def test_an_administrators_reset_removes_everything_and_is_audited(
    db: Session, attempt: Attempt, make_user: Callable[..., User]
) -> None:
    alice = make_user()
    with time_machine.travel(START, tick=False):
        _enrol(db, attempt, alice)
    assert service.reset(db, user=alice, actor=Actor.system("tests")) is True
    db.commit()
    assert not service.status(db, settings=attempt.settings, user=alice).enabled
    assert db.scalars(select(TwoFactorRecoveryCode)).all() == []
    event = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.action == Action.TWO_FACTOR_RESET
    assert event.target_id == alice.id and event.details["was_enabled"] is True
    assert service.reset(db, user=alice, actor=Actor.system("tests")) is False


def test_the_enrolment_rule_holds_only_local_admins_without_a_second_factor(
    db: Session,
    attempt: Attempt,
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    strict = auth_settings(require_two_factor_for_admins=True)
    root, alice = make_user("root", role="admin"), make_user("alice")
    assert must_enrol(db, strict, root, sso_provider=None)
    assert not must_enrol(db, strict, root, sso_provider="keycloak")  # the IdP's MFA
    assert not must_enrol(db, strict, alice, sso_provider=None)
    assert not must_enrol(db, attempt.settings, root, sso_provider=None)  # rule off
    with time_machine.travel(START, tick=False):
        _enrol(db, attempt, root)
    assert not must_enrol(db, strict, root, sso_provider=None)


def test_the_clock_decides_which_codes_the_service_accepts(
    db: Session, attempt: Attempt, make_user: Callable[..., User]
) -> None:
    alice = make_user()
    principal = _principal(alice)
    with time_machine.travel(START, tick=False) as clock:
        started = service.start_enrolment(
            db, attempt=attempt, principal=principal, password=PASSWORD
        )
        code = totp.code_at(started.secret, totp.step_at(START))
        clock.shift(timedelta(seconds=2 * totp.STEP_SECONDS))  # two steps on: too late
        with pytest.raises(AppError):
            service.confirm_enrolment(db, attempt=attempt, principal=principal, code=code)
        clock.shift(timedelta(seconds=-1))  # the last instant of the next step: still good
        assert service.confirm_enrolment(db, attempt=attempt, principal=principal, code=code)
