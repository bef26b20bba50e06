"""The demo's runs, generated as ``RunRecord``s: a Playwright project in three browsers and a
pytest suite, over the last weeks.

They tell stories the pages are built to show: a flaky search suggestion, a WebKit-only flake,
a coupon regression on ``main`` fixed a few runs later, a slow week for checkout, a feature
branch that breaks payments, skipped tests, retries with screenshots and traces. The same
random generator gives the same runs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from playdeck.cli.demo_files import failure_files
from playdeck.ingest.records import (
    AttachmentRecord,
    AttemptRecord,
    ReportFileRecord,
    ReportRecord,
    RunRecord,
    TestRecord,
    attempts_duration,
)
from playdeck.outcomes import AttemptStatus, Outcome

HISTORY_DAYS = 45
ATTACH_RECENT = 40  # runs (newest) whose failures carry screenshots and traces
BROWSERS = ("chromium", "firefox", "webkit")
BRANCHES = (
    "feat/checkout-redesign",
    "fix/login-timeout",
    "renovate/playwright-1.49",
    "feat/wishlist",
)
AUTHORS = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Linus Pauling")
COMMITS = (
    "Fix rounding of discounted totals",
    "Speed up product search",
    "Add wishlist button to product cards",
    "Upgrade Playwright to 1.49",
    "Refactor checkout state machine",
    "Retry payment webhook on 5xx",
    "Translate account pages",
    "Lazy-load review images",
    "Tighten login rate limit",
    "Show shipping estimate in cart",
)

# (file, describe path, title, typical duration in ms, tags)
STOREFRONT = (
    ("tests/auth.spec.ts", ("Login",), "signs in with email and password", 2100, ("smoke",)),
    ("tests/auth.spec.ts", ("Login",), "shows an error for a wrong password", 1600, ()),
    ("tests/auth.spec.ts", ("Login",), "locks the account after five attempts", 5200, ()),
    ("tests/auth.spec.ts", ("Password reset",), "sends a reset email", 3100, ()),
    ("tests/cart.spec.ts", ("Cart",), "adds an item", 1800, ("smoke",)),
    ("tests/cart.spec.ts", ("Cart",), "removes an item", 1700, ()),
    ("tests/cart.spec.ts", ("Cart",), "updates the quantity", 1900, ()),
    ("tests/cart.spec.ts", ("Cart",), "keeps items after a reload", 2600, ()),
    ("tests/checkout.spec.ts", ("Checkout",), "pays by card", 6400, ("smoke",)),
    ("tests/checkout.spec.ts", ("Checkout",), "applies a coupon", 4100, ()),
    ("tests/checkout.spec.ts", ("Checkout",), "offers shipping options", 3300, ()),
    ("tests/checkout.spec.ts", ("Checkout", "Confirmation"), "sends the order email", 7800, ()),
    ("tests/checkout.spec.ts", ("Checkout", "Confirmation"), "shows the order number", 3900, ()),
    ("tests/search.spec.ts", ("Search",), "finds a product by name", 1400, ("smoke",)),
    ("tests/search.spec.ts", ("Search",), "filters by price", 2200, ()),
    ("tests/search.spec.ts", ("Search",), "explains when nothing matches", 1100, ()),
    ("tests/search.spec.ts", ("Search",), "suggests while typing", 1900, ()),
    ("tests/product.spec.ts", ("Product page",), "zooms the gallery", 2500, ()),
    ("tests/product.spec.ts", ("Product page",), "pages through reviews", 2800, ()),
    ("tests/product.spec.ts", ("Product page",), "adds to the wishlist", 2000, ()),
    ("tests/account.spec.ts", ("Account",), "edits the profile", 2300, ()),
    ("tests/account.spec.ts", ("Account",), "lists past orders", 2900, ()),
    ("tests/account.spec.ts", ("Account",), "manages addresses", 3500, ()),
    ("tests/a11y.spec.ts", ("Accessibility",), "home page has no violations", 3600, ()),
    ("tests/a11y.spec.ts", ("Accessibility",), "checkout has no violations", 4200, ()),
)
BILLING = (
    ("tests/test_invoices.py", "TestInvoices", "test_create_invoice", 120),
    ("tests/test_invoices.py", "TestInvoices", "test_invoice_totals_include_tax", 45),
    ("tests/test_invoices.py", "TestInvoices", "test_void_paid_invoice_is_refused", 60),
    ("tests/test_invoices.py", "TestInvoices", "test_pdf_rendering", 900),
    ("tests/test_payments.py", "TestPayments", "test_card_payment", 300),
    ("tests/test_payments.py", "TestPayments", "test_declined_card", 250),
    ("tests/test_payments.py", "TestPayments", "test_partial_refund", 280),
    ("tests/test_payments.py", "TestPayments", "test_currency_conversion", 80),
    ("tests/test_webhooks.py", "TestWebhooks", "test_signature_is_checked", 40),
    ("tests/test_webhooks.py", "TestWebhooks", "test_delivery_is_retried", 1500),
    ("tests/test_webhooks.py", "TestWebhooks", "test_events_are_ordered", 700),
    ("tests/test_subscriptions.py", "TestSubscriptions", "test_upgrade_prorates", 150),
    ("tests/test_subscriptions.py", "TestSubscriptions", "test_cancel_at_period_end", 110),
    ("tests/test_subscriptions.py", "TestSubscriptions", "test_trial_conversion", 130),
)


# --- how each test behaves ---------------------------------------------------------------------


def _storefront_error(title: str, file: str, timed_out: bool) -> tuple[str, str]:
    if timed_out:
        message = "Test timeout of 30000ms exceeded.\n\nwaiting for getByText('Order confirmed')"
    elif "coupon" in title:
        message = (
            "Error: expect(locator).toHaveText(expected) failed\n\n"
            "Locator: getByTestId('order-total')\nExpected: \"Total: $90.00\"\n"
            'Received: "Total: $100.00"\nTimeout: 5000ms'
        )
    elif "suggests" in title:
        message = (
            "Error: expect(locator).toBeVisible() failed\n\n"
            "Locator: getByRole('listbox', { name: 'Suggestions' })\n"
            "Expected: visible\nTimeout: 5000ms\nError: element(s) not found"
        )
    else:
        message = (
            "Error: page.click: Target page, context or browser has been closed\n"
            "Call log:\n  - waiting for getByRole('button', { name: 'Continue' })"
        )
    stack = f"{message.splitlines()[0]}\n    at /builds/acme/storefront/{file}:42:31"
    return message, stack


def _storefront_outcome(
    rng: random.Random, title: str, browser: str, branch: str, phase: float
) -> Outcome:
    if title == "zooms the gallery" and browser == "webkit":
        return Outcome.SKIPPED
    if title == "checkout has no violations" and browser == "firefox":
        return Outcome.SKIPPED
    if title == "applies a coupon" and branch == "main" and 0.62 <= phase < 0.645:
        return Outcome.FAILED
    redesign = branch == "feat/checkout-redesign"
    if redesign and title in ("pays by card", "shows the order number") and rng.random() < 0.45:
        return Outcome.FAILED
    roll = rng.random()
    if title == "suggests while typing":
        return Outcome.FLAKY if roll < 0.12 else Outcome.FAILED if roll < 0.15 else Outcome.PASSED
    if title == "keeps items after a reload" and browser == "webkit":
        return Outcome.FLAKY if roll < 0.10 else Outcome.PASSED
    if title == "sends the order email":
        return Outcome.TIMEDOUT if roll < 0.04 else Outcome.FLAKY if roll < 0.12 else Outcome.PASSED
    return Outcome.FAILED if roll < 0.002 else Outcome.PASSED


_RED, _GREEN, _GREY, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[90m", "\x1b[0m"


def _failure_details(message: str, duration: int) -> dict[str, Any]:
    """What Playwright's JSON report adds to a failed attempt, as the parser keeps it: the
    message in colour, the code frame, and the steps down to the one that failed."""
    coloured = message.replace('Expected: "', f'Expected: {_GREEN}"').replace(
        'Received: "', f'Received: {_RED}"'
    )
    coloured = "\n".join(
        line + _RESET if line.startswith(("Expected: \x1b", "Received: \x1b")) else line
        for line in coloured.splitlines()
    )
    if "toBeVisible" in message:
        failing = "await expect(page.getByRole('listbox', { name: 'Suggestions' })).toBeVisible();"
    elif "toHaveText" in message:
        failing = "await expect(page.getByTestId('order-total')).toHaveText('Total: $90.00');"
    else:
        failing = "await page.getByRole('button', { name: 'Continue' }).click();"
    caret = " " * (3 + failing.rindex(".") + 1)  # under the call that failed
    snippet = (
        f" {_GREY} 40 |{_RESET}   await page.goto('/checkout');\n"
        f" {_GREY} 41 |{_RESET}   await page.getByRole('button', {{ name: 'Checkout' }}).click();\n"
        f"{_RED}>{_RESET}{_GREY} 42 |{_RESET}   {failing}\n"
        f" {_GREY}    |{_RESET}{caret}{_RED}^{_RESET}\n"
        f" {_GREY} 43 |{_RESET} }});"
    )
    first_line = message.splitlines()[0]
    steps = [
        {"title": "Before Hooks", "duration": duration // 10, "category": "hook", "depth": 0},
        {"title": "page.goto(/cart)", "duration": duration // 5, "category": "pw:api", "depth": 1},
        {
            "title": "Checkout",
            "duration": duration // 2,
            "category": "test.step",
            "depth": 0,
            "error": first_line,
        },
        {
            "title": "click getByRole('button', { name: 'Checkout' })",
            "duration": duration // 8,
            "category": "pw:api",
            "depth": 1,
        },
        {
            "title": failing.removeprefix("await ").rstrip(";"),
            "duration": duration // 3,
            "category": "expect" if "expect(" in failing else "pw:api",
            "depth": 1,
            "error": first_line,
        },
        {"title": "After Hooks", "duration": duration // 20, "category": "hook", "depth": 0},
    ]
    return {"extra": {"error_ansi": coloured, "snippet": snippet}, "steps": steps}


def _attempts(
    outcome: Outcome,
    duration: int,
    error: tuple[str, str] | None,
    files: list[AttachmentRecord],
    stdout: str,
) -> list[AttemptRecord]:
    message, stack = error or (None, None)
    details = _failure_details(message, duration) if message else {}
    if outcome is Outcome.SKIPPED:
        return [AttemptRecord(retry=0, status=AttemptStatus.SKIPPED)]
    if outcome is Outcome.PASSED:
        return [
            AttemptRecord(retry=0, status=AttemptStatus.PASSED, duration_ms=duration, stdout=stdout)
        ]
    first_status = AttemptStatus.TIMEDOUT if outcome is Outcome.TIMEDOUT else AttemptStatus.FAILED
    last_status = AttemptStatus.PASSED if outcome is Outcome.FLAKY else first_status
    attempts = [
        AttemptRecord(
            retry=retry,
            status=status,
            duration_ms=duration if status is AttemptStatus.PASSED else int(duration * 1.4),
            error_message=message if status is not AttemptStatus.PASSED else None,
            error_stack=stack if status is not AttemptStatus.PASSED else None,
            stdout=stdout,
            attachments=list(files) if status is not AttemptStatus.PASSED else [],
            **(details if status is not AttemptStatus.PASSED else {}),
        )
        for retry, status in enumerate((first_status, last_status))
    ]
    return attempts


# --- the runs ------------------------------------------------------------------------------


def _start_times(rng: random.Random, count: int, now: datetime) -> list[datetime]:
    first = now - timedelta(days=HISTORY_DAYS)
    span = (now - timedelta(hours=1) - first).total_seconds()
    return sorted(first + timedelta(seconds=rng.random() * span) for _ in range(count))


def storefront_runs(rng: random.Random, count: int, now: datetime) -> Iterator[RunRecord]:
    sha = f"{rng.getrandbits(160):040x}"
    for index, started in enumerate(_start_times(rng, count, now)):
        phase = index / max(1, count - 1)
        branch = "main" if rng.random() < 0.72 else rng.choice(BRANCHES)
        if branch != "main" or rng.random() < 0.5:
            sha = f"{rng.getrandbits(160):040x}"
        attach = index >= count - ATTACH_RECENT
        tests: list[TestRecord] = []
        for line, (file, describe, title, base, tags) in enumerate(STOREFRONT):
            for browser in BROWSERS:
                slow = 1.6 if "checkout" in file and 0.40 <= phase < 0.50 else 1.0
                browser_factor = {"chromium": 1.0, "firefox": 1.15, "webkit": 1.3}[browser]
                duration = int(base * slow * browser_factor * rng.uniform(0.8, 1.25))
                outcome = _storefront_outcome(rng, title, browser, branch, phase)
                failing = outcome in (Outcome.FAILED, Outcome.TIMEDOUT, Outcome.FLAKY)
                error = (
                    _storefront_error(title, file, outcome is Outcome.TIMEDOUT) if failing else None
                )
                files = failure_files(file, title) if failing and attach else []
                stdout = f"GET /api/session 200 ({rng.randrange(20, 90)} ms)\n"
                attempts = _attempts(outcome, duration, error, files, stdout)
                annotations = []
                if outcome is Outcome.SKIPPED:
                    annotations.append(
                        {"type": "fixme", "description": f"Not supported on {browser} yet"}
                    )
                if title == "suggests while typing":
                    annotations.append({"type": "issue", "description": "SHOP-412"})
                final_error = error if outcome in (Outcome.FAILED, Outcome.TIMEDOUT) else None
                tests.append(
                    TestRecord(
                        file=file,
                        title_path=[*describe, title],
                        outcome=outcome,
                        browser_project=browser,
                        expected_status=(
                            AttemptStatus.SKIPPED
                            if outcome is Outcome.SKIPPED
                            else AttemptStatus.PASSED
                        ),
                        duration_ms=attempts_duration(attempts),
                        location=f"{file}:{12 + 9 * line}:5",
                        tags=list(tags),
                        annotations=annotations,
                        error_message=final_error[0] if final_error else None,
                        error_stack=final_error[1] if final_error else None,
                        attempts=attempts,
                    )
                )
        build = 1200 + index
        reports = []
        if index >= count - 3:
            page = f"<!doctype html><title>Playwright report</title><h1>Run e2e #{build}</h1>"
            reports.append(
                ReportRecord(
                    type="playwright-html",
                    label="HTML report",
                    entry="index.html",
                    files=[ReportFileRecord(path="index.html", body=page.encode())],
                )
            )
        yield RunRecord(
            source_format="playwright",
            started_at=started,
            duration_ms=sum(t.duration_ms for t in tests) // 4 + rng.randrange(6000, 12000),
            project_name="Acme Storefront",
            project_description="End-to-end tests of the web shop (Playwright, three browsers).",
            name=f"e2e #{build}",
            branch=branch,
            commit_sha=sha,
            commit_message=rng.choice(COMMITS),
            author=rng.choice(AUTHORS),
            ci_provider="github-actions",
            ci_build_number=str(build),
            ci_build_url=f"https://github.com/acme/storefront/actions/runs/{8_100_000 + build}",
            environment="staging",
            tags=["e2e"],
            metadata={"playwright": {"version": "1.49.1", "workers": 4}, "shard": "1/1"},
            tests=tests,
            reports=reports,
        )


def billing_runs(rng: random.Random, count: int, now: datetime) -> Iterator[RunRecord]:
    for index, started in enumerate(_start_times(rng, count, now)):
        tests: list[TestRecord] = []
        for file, cls, name, base in BILLING:
            roll = rng.random()
            if name == "test_delivery_is_retried":
                outcome = Outcome.FLAKY if roll < 0.10 else Outcome.PASSED
            elif name == "test_pdf_rendering" and index % 9 == 0:
                outcome = Outcome.SKIPPED
            else:
                outcome = Outcome.FAILED if roll < 0.003 else Outcome.PASSED
            duration = int(base * rng.uniform(0.7, 1.4))
            error = (
                "AssertionError: assert 502 == 200\n +  where 502 = <Response [502]>.status_code",
                f"{file}:88: in {name}\n    assert response.status_code == 200\n"
                "E   AssertionError: assert 502 == 200",
            )
            failing = outcome in (Outcome.FAILED, Outcome.FLAKY)
            attempts = _attempts(outcome, duration, error if failing else None, [], "")
            tests.append(
                TestRecord(
                    file=file,
                    title_path=[cls, name],
                    outcome=outcome,
                    duration_ms=attempts_duration(attempts),
                    error_message=error[0] if outcome is Outcome.FAILED else None,
                    error_stack=error[1] if outcome is Outcome.FAILED else None,
                    attempts=attempts,
                )
            )
        yield RunRecord(
            source_format="junit",
            started_at=started,
            duration_ms=sum(t.duration_ms for t in tests) + rng.randrange(2000, 4000),
            project_name="Billing API",
            project_description="pytest suite of the billing service.",
            branch="main",
            commit_sha=f"{rng.getrandbits(160):040x}",
            author=rng.choice(AUTHORS),
            ci_provider="gitlab-ci",
            ci_build_number=str(5000 + index),
            tests=tests,
        )
