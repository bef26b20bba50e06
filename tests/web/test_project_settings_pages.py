"""``/projects/{slug}/settings`` and the run page's actions: who sees them, what the forms do,
and what is refused (role, CSRF, invalid input) without changing anything."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.authz.permissions import ProjectRole
from playdeck.ingest.records import ReportFileRecord, ReportRecord
from playdeck.models import Project, RetentionPolicy, Run
from playdeck.settings import Settings

from .admin_support import (
    Browser,
    MakeClient,
    alert,
    browser_for,
    events,
    fresh,
    make_project,
    notices,
)
from .conftest import MakeRun, case, parse
from .identity_support import auth_overrides, create_user

SETTINGS = "/projects/shop/settings"
PAGE = b"<html>the report only this run has</html>"


@dataclass
class World:
    settings: Settings
    make_client: MakeClient
    project: Project
    run_id: int
    old_run_id: int

    def browser(self, login: str) -> Browser:
        return browser_for(self.make_client, self.settings, login)

    def stored(self) -> list[Path]:
        root = self.settings.files_dir
        return [
            p for p in root.rglob("*") if p.is_file() and "tmp" not in p.relative_to(root).parts
        ]


@pytest.fixture
def world(
    engine: Engine,
    make_settings: Callable[..., Settings],
    make_client: MakeClient,
    make_run: MakeRun,
) -> World:
    settings = make_settings(**auth_overrides())
    for name, role in (("root", "admin"), ("olga", "user"), ("paul", "user"), ("mia", "user")):
        create_user(engine, settings, name, role=role, email=f"{name}@example.com")
    project = make_project(
        engine, "Shop", olga=ProjectRole.OWNER, paul=ProjectRole.ADMIN, mia=ProjectRole.MEMBER
    )
    report = ReportRecord(
        type="playwright-html",
        label="HTML report",
        entry="index.html",
        files=[ReportFileRecord(path="index.html", body=PAGE)],
    )
    run_id = make_run([case("pays", "failed")], project="Shop", branch="main", reports=[report])
    old = make_run([case("pays")], project="Shop", branch="feature/x", started_at=24 * 40)
    world = World(settings, make_client, project, run_id, old)
    # Stored before the storage grace period (1 h): a deletion may take them at once.
    stored_at = time.time() - 2 * 3600
    for path in world.stored():
        os.utime(path, (stored_at, stored_at))
    return world


def _tabs(html: str) -> list[str]:
    return parse(html.split('class="tabs"', 1)[1].split("</nav>", 1)[0]).links()


def _policy(db: Session, project: Project) -> RetentionPolicy | None:
    return (
        fresh(db)
        .scalars(select(RetentionPolicy).where(RetentionPolicy.project_id == project.id))
        .first()
    )


# --- who sees what -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "tab"), [("olga", True), ("paul", True), ("root", True), ("mia", False)]
)
def test_the_settings_tab_shows_for_owners_admins_and_administrators(
    world: World, login: str, tab: bool
) -> None:
    browser = world.browser(login)
    for page in ("/projects/shop", "/projects/shop/tests", "/projects/shop/members"):
        assert (SETTINGS in _tabs(browser.get(page).text)) is tab, page
    response = browser.get(SETTINGS)
    assert response.status_code == (200 if tab else 403)


def test_the_settings_page_shows_usage_pinned_runs_and_owner_only_deletion(world: World) -> None:
    html = world.browser("olga").get(SETTINGS).text
    usage = parse(html.split('id="disk-usage"', 1)[1].split("</dl>", 1)[0]).text
    assert "Runs2" in usage.replace(" ", "") and "Report files1" in usage.replace("·", "")
    assert "No policy: every run and file is kept for ever." in html
    assert "/projects/shop/delete" in parse(html).links()
    # A project admin edits but does not delete the project.
    assert "/projects/shop/delete" not in parse(world.browser("paul").get(SETTINGS).text).links()


# --- general form -------------------------------------------------------------------------------


def test_the_default_branch_is_saved_and_leads_the_flaky_page(world: World, db: Session) -> None:
    paul = world.browser("paul")

    def save(branch: str) -> None:
        response = paul.client.post(
            f"{SETTINGS}/general",
            data={"csrf_token": paul.token, "name": "Shop", "default_branch": branch},
            headers={"accept": "text/html"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text

    def shown() -> str | None:
        page = parse(paul.get("/projects/shop/flaky").text)
        chosen = [o for o in page.all("option") if "selected" in o.attrs]
        return chosen[0].attrs["value"] if chosen else None

    assert shown() == "main"  # the branch most runs were on
    save("  feature/x ")
    assert fresh(db).get(Project, world.project.id).default_branch == "feature/x"  # type: ignore[union-attr]
    assert 'value="feature/x"' in paul.get(SETTINGS).text
    assert shown() == "feature/x"
    save("")
    assert fresh(db).get(Project, world.project.id).default_branch is None  # type: ignore[union-attr]
    assert shown() == "main"
    # A member cannot change it.
    mia = world.browser("mia")
    refused = mia.client.post(
        f"{SETTINGS}/general",
        data={"csrf_token": mia.token, "name": "Shop", "default_branch": "x"},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert fresh(db).get(Project, world.project.id).default_branch is None  # type: ignore[union-attr]


# --- retention form ----------------------------------------------------------------------------


def test_save_a_retention_policy_with_branch_rules(world: World, db: Session) -> None:
    paul = world.browser("paul")
    response = paul.client.post(
        f"{SETTINGS}/retention",
        data={
            "csrf_token": paul.token,
            "keep_days": "30",
            "keep_last": "",
            "files_days": "7",
            "rule_branch": ["main", "release/*", ""],
            "rule_keep_days": ["90", "", ""],
            "rule_keep_last": ["", "5", ""],
            "rule_files_days": ["14", "", ""],
        },
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == SETTINGS
    policy = _policy(db, world.project)
    assert policy is not None
    assert (policy.keep_days, policy.keep_last, policy.files_days) == (30, None, 7)
    assert policy.branch_rules == [
        {"branch": "main", "keep_days": 90, "keep_last": None, "files_days": 14},
        {"branch": "release/*", "keep_days": None, "keep_last": 5, "files_days": None},
    ]
    html = paul.get(SETTINGS).text
    assert "Retention policy saved." in notices(html)
    preview = parse(html.split('id="retention-preview"', 1)[1].split("</p>", 1)[0]).text
    assert "deletes 1 runs" in " ".join(preview.split())  # the feature branch run of 40 days
    (event,) = events(db, "retention.policy_changed")
    assert event.actor_name == "paul" and event.details["after"]["keep_days"] == 30


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"keep_days": "ten"}, "Keep days"),
        ({"keep_days": "0"}, "Keep days"),
        ({"keep_days": "7", "files_days": "30"}, "files_days must not be longer"),
        ({"rule_keep_days": "3"}, "Branch"),  # a rule without a branch
        ({"rule_branch": ["main", "main"]}, "only once"),
    ],
)
def test_invalid_retention_forms_are_refused_and_nothing_is_saved(
    world: World, db: Session, form: dict[str, object], message: str
) -> None:
    olga = world.browser("olga")
    response = olga.client.post(
        f"{SETTINGS}/retention",
        data={"csrf_token": olga.token, **form},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert message.lower() in alert(response.text).lower()
    assert _policy(db, world.project) is None
    assert events(db, "retention.policy_changed") == []


def test_forms_without_the_csrf_token_change_nothing(world: World, db: Session) -> None:
    olga = world.browser("olga")
    assert olga.post(f"{SETTINGS}/retention", token=False, keep_days="3").status_code == 403
    assert olga.post(f"{SETTINGS}/general", token=False, name="Hacked").status_code == 403
    assert olga.post(f"/runs/{world.run_id}/pin", token=False).status_code == 403
    assert olga.post(f"/runs/{world.run_id}/delete", token=False).status_code == 403
    assert olga.post("/projects/shop/delete", token=False).status_code == 403
    session = fresh(db)
    assert _policy(session, world.project) is None
    assert session.get(Project, world.project.id).name == "Shop"  # type: ignore[union-attr]
    run = session.get(Run, world.run_id)
    assert run is not None and run.pinned is False


def test_members_cannot_change_settings(world: World, db: Session) -> None:
    mia = world.browser("mia")
    assert mia.post(f"{SETTINGS}/retention", keep_days="3").status_code == 403
    assert mia.post(f"{SETTINGS}/general", name="Mine").status_code == 403
    assert mia.post(f"/runs/{world.run_id}/pin").status_code == 403
    assert mia.get(f"/runs/{world.run_id}/delete").status_code == 403
    assert world.browser("paul").post("/projects/shop/delete").status_code == 403
    assert _policy(db, world.project) is None
    assert fresh(db).get(Project, world.project.id) is not None


# --- general form ------------------------------------------------------------------------------


def test_rename_and_describe_the_project(world: World, db: Session) -> None:
    olga = world.browser("olga")
    response = olga.post(f"{SETTINGS}/general", name="Web shop", description="The storefront")
    assert response.status_code == 303
    project = fresh(db).get(Project, world.project.id)
    assert project is not None
    assert (project.name, project.description, project.slug) == (
        "Web shop",
        "The storefront",
        "shop",
    )
    assert "Project saved." in notices(olga.get(SETTINGS).text)


def test_a_rename_to_a_taken_name_is_refused(world: World, db: Session, engine: Engine) -> None:
    make_project(engine, "Admin panel")
    olga = world.browser("olga")
    response = olga.post(f"{SETTINGS}/general", name="Admin panel", description="")
    assert response.status_code == 409 and "already exists" in alert(response.text)
    assert fresh(db).get(Project, world.project.id).name == "Shop"  # type: ignore[union-attr]
    blank = olga.post(f"{SETTINGS}/general", name="  ", description="")
    assert blank.status_code == 422


# --- runs: pin, unpin, delete ------------------------------------------------------------------


def test_pin_and_unpin_a_run_from_its_page(world: World, db: Session) -> None:
    paul = world.browser("paul")
    page = f"/runs/{world.run_id}"
    assert ">Pin</button>" in paul.get(page).text
    assert ">Pin</button>" not in world.browser("mia").get(page).text
    response = paul.post(f"{page}/pin")
    assert response.status_code == 303 and response.headers["location"] == page
    assert fresh(db).get(Run, world.run_id).pinned is True  # type: ignore[union-attr]
    html = paul.get(page).text
    assert "Run pinned" in notices(html) and ">Unpin</button>" in html
    assert f'id="pinned-{world.run_id}"' in paul.get(SETTINGS).text
    assert 'title="Retention never deletes this run">pinned<' in paul.get("/projects/shop").text
    response = paul.post(f"{page}/unpin", back=SETTINGS)
    assert response.headers["location"] == SETTINGS
    assert fresh(db).get(Run, world.run_id).pinned is False  # type: ignore[union-attr]
    # An unsafe back target falls back to the run's page.
    response = paul.post(f"{page}/pin", back="https://evil.example/")
    assert response.headers["location"] == page
    assert len(events(db, "run.pinned")) == 2 and len(events(db, "run.unpinned")) == 1


def test_delete_a_run_after_confirming(world: World, db: Session) -> None:
    paul = world.browser("paul")
    before = world.stored()
    assert before  # the report page
    confirm = paul.get(f"/runs/{world.run_id}/delete")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    assert f'action="/runs/{world.run_id}/delete"' in confirm.text
    response = paul.post(f"/runs/{world.run_id}/delete")
    assert response.status_code == 303 and response.headers["location"] == "/projects/shop"
    assert fresh(db).get(Run, world.run_id) is None
    assert fresh(db).get(Run, world.old_run_id) is not None
    assert len(world.stored()) == len(before) - 1  # the report page only this run had
    (event,) = events(db, "run.deleted")
    assert event.actor_name == "paul" and event.details["run_id"] == world.run_id


def test_delete_the_project_after_confirming(world: World, db: Session) -> None:
    olga = world.browser("olga")
    assert world.stored()
    confirm = olga.get("/projects/shop/delete")
    assert confirm.status_code == 200 and 'action="/projects/shop/delete"' in confirm.text
    response = olga.post("/projects/shop/delete")
    assert response.status_code == 303 and response.headers["location"] == "/projects"
    assert fresh(db).get(Project, world.project.id) is None
    assert world.stored() == []
    assert "Project deleted" in notices(olga.get("/projects").text)
    (event,) = events(db, "project.deleted")
    assert event.actor_name == "olga"
    assert event.details == {"project_id": world.project.id, "project": "Shop", "runs": 2}


def test_the_runs_table_pins_from_the_settings_tab_and_pages(
    world: World, db: Session, make_run: MakeRun
) -> None:
    for hours in range(1, 25):
        make_run([case("pays")], project="Shop", started_at=hours)
    olga = world.browser("olga")
    first = parse(olga.get(SETTINGS).text)
    rows = [e.attrs["id"] for e in first.all("tr") if e.attrs.get("id", "").startswith("run-")]
    assert len(rows) == 25 and rows[0] == f"run-{world.run_id}"
    (next_url,) = [link for link in first.links() if "cursor=" in link]
    second = parse(olga.get(next_url).text)
    rest = [e.attrs["id"] for e in second.all("tr") if e.attrs.get("id", "").startswith("run-")]
    assert len(rest) == 1 and not set(rest) & set(rows)  # 26 runs in all

    response = olga.post(f"/runs/{world.old_run_id}/pin", back=SETTINGS)
    assert response.status_code == 303 and response.headers["location"] == SETTINGS
    assert fresh(db).get(Run, world.old_run_id).pinned is True  # type: ignore[union-attr]
