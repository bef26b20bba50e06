"""Failure signatures: the same fault gets one signature whatever varies between occurrences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playdeck.runs.triage.signature import mask, normalise, signature, top_frames

DATA = Path(__file__).parents[1] / "data"

STACK = """Error: expect(received).toBe(expected)
    at /home/ci/work/shop/tests/checkout.spec.ts:42:17
    at processTicksAndRejections (node:internal/process/task_queues:95:5)
    at Object.pay (/home/ci/work/shop/node_modules/playwright/lib/helper.js:10:3)
    at CheckoutPage.pay (/home/ci/work/shop/pages/checkout.ts:12:5)
    at Context.<anonymous> (/home/ci/work/shop/tests/other.spec.ts:3:1)"""


def test_what_varies_is_masked() -> None:
    assert mask("Timeout 5000ms exceeded while waiting for 'button#pay'") == (
        "Timeout <n> exceeded while waiting for <str>"
    )
    assert mask('Expected: "Total: 12.50 €"  Received: "Total: 13.10 €"') == (
        "Expected: <str> Received: <str>"
    )
    assert mask("order 3f2a9c1d-1b2c-4d5e-8f90-1234567890ab not found at /api/orders/77") == (
        "order <id> not found at <path>"
    )
    assert mask("GET https://shop.test/cart?id=9 failed with 503") == "GET <url> failed with <n>"
    assert mask("commit deadbeefcafe1234 differs") == "commit <id> differs"


def test_stack_frames_are_file_and_function_outside_third_party_code() -> None:
    assert top_frames(STACK) == ["checkout.spec.ts", "checkout.ts:CheckoutPage.pay"]
    assert top_frames(STACK, limit=3) == [
        "checkout.spec.ts",
        "checkout.ts:CheckoutPage.pay",
        "other.spec.ts:Context.<anonymous>",
    ]
    python = 'Traceback:\n  File "/srv/app/tests/test_cart.py", line 12, in test_total\n    x'
    assert top_frames(python) == ["test_cart.py:test_total"]


def test_same_fault_same_signature_other_fault_other_signature() -> None:
    one = signature("Timeout 5000ms waiting for 'button#pay'", STACK)
    moved = STACK.replace(":42:17", ":57:3").replace("/home/ci/", "/builds/x/")
    assert signature("Timeout 3000ms waiting for 'a.checkout'", moved) == one
    # Another assertion, or the same message from another place in the code: another group.
    assert signature("Element is not visible", STACK) != one
    assert (
        signature(
            "Timeout 5000ms waiting for 'button#pay'", STACK.replace("checkout.ts", "cart.ts")
        )
        != one
    )
    # Colour codes make no difference; no error at all is a group of its own.
    assert signature("\x1b[31mTimeout\x1b[39m 5000ms waiting for 'x'", STACK) == one
    assert signature(None, None) == signature("", "")


def test_a_message_that_carries_its_stack_is_read_once() -> None:
    text = normalise(STACK, None)
    assert text.splitlines() == [
        "Error: expect(received).toBe(expected)",
        "at checkout.spec.ts",
        "at checkout.ts:CheckoutPage.pay",
    ]


def _errors(suite: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for spec in suite.get("specs", []):
        for test in spec["tests"]:
            for result in test["results"]:
                for error in result.get("errors", []):
                    found.append((spec["title"], error.get("message", "")))
    for child in suite.get("suites", []):
        found.extend(_errors(child))
    return found


def test_real_playwright_retries_of_one_fault_share_a_signature() -> None:
    """The real report's retried failure differs between attempts only in its call log
    ("10 times" / "11 times the locator resolved"): one signature. Its other failures differ."""
    report = json.loads((DATA / "playwright" / "report.json").read_text())
    errors = [e for suite in report["suites"] for e in _errors(suite)]
    by_title: dict[str, set[str]] = {}
    for title, message in errors:
        by_title.setdefault(title, set()).add(signature(message, None))
    repeated = [sigs for sigs in by_title.values() if len(sigs) == 1]
    assert repeated, by_title
    all_signatures = {s for sigs in by_title.values() for s in sigs}
    assert len(all_signatures) == len(by_title)  # one group per distinct fault
