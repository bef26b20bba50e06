"""A Playwright output folder packed into the zip layout the server ingests.

The zip holds the JSON report at its root and every attachment file the report points to, stored
at its path relative to the folder; the report's attachment paths are rewritten to those relative
paths, so the server needs no guessing. Only files inside the folder are packed: a report is
written by the code under test, and a path it names outside the folder (``/home/ci/.ssh/...``)
must not turn an upload into a way to send the CI machine's files away.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from playdeck.ingest.parsers import playwright_json
from playdeck.ingest.parsers.format import Head
from playdeck.ingest.sources import PathMapper

REPORT_ENTRY = "report.json"
PREFERRED_REPORT_NAMES = ("report.json", "results.json", "test-results.json")
SKIPPED_DIRS = frozenset({"node_modules", ".git", "test-results", "blob-report"})
WALK_PRUNED_DIRS = frozenset({"node_modules", ".git"})
# Playwright's JSON report starts with its config; a report that does not is still found by the
# full parse below, this only spares parsing every large unrelated JSON file.
_SNIFF_BYTES = 64 * 1024
# Already-compressed formats gain nothing from deflate.
_STORED_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".webp", ".webm", ".mp4", ".zip", ".gz", ".br", ".zst"}
)


class BundleError(Exception):
    """The folder cannot be uploaded; the message is one line for the user."""


@dataclass(slots=True)
class Bundle:
    report: Path
    attachments: dict[str, Path] = field(default_factory=dict)  # zip entry -> file on disk
    missing: int = 0  # referenced files that do not exist
    outside: int = 0  # referenced files outside the folder, not packed


def _candidates(directory: Path) -> Iterator[Path]:
    """JSON files in the folder, then one level down; preferred names first at each level."""

    def ordered(paths: list[Path]) -> list[Path]:
        def rank(path: Path) -> tuple[int, str]:
            name = path.name.lower()
            preferred = PREFERRED_REPORT_NAMES.index(name) if name in PREFERRED_REPORT_NAMES else 9
            return preferred, name

        return sorted(paths, key=rank)

    top = [p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".json"]
    yield from ordered(top)
    subdirs = sorted(p for p in directory.iterdir() if p.is_dir() and p.name not in SKIPPED_DIRS)
    for subdir in subdirs:
        yield from ordered(
            [p for p in subdir.iterdir() if p.is_file() and p.suffix.lower() == ".json"]
        )


def find_report(directory: Path) -> tuple[Path, dict[str, Any]]:
    """The folder's Playwright JSON report (``--reporter=json``) and its parsed content."""
    for path in _candidates(directory):
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        if b'"suites"' not in head and b'"config"' not in head:
            continue
        try:
            data = orjson.loads(path.read_bytes())
        except (orjson.JSONDecodeError, OSError):
            continue
        # The server's own rule for a Playwright report, so what is packed is what it reads.
        if isinstance(data, dict) and playwright_json.sniff(Head.of_value(data)):
            return path, data
    raise BundleError(
        f"{directory}: no Playwright JSON report found (a *.json file written by "
        "--reporter=json, in the folder or one level down)"
    )


def _attachment_lists(suites: Any) -> Iterator[list[Any]]:
    if not isinstance(suites, list):
        return
    for suite in suites:
        if not isinstance(suite, dict):
            continue
        yield from _attachment_lists(suite.get("suites"))
        for spec in suite.get("specs") or ():
            for test in (spec.get("tests") or ()) if isinstance(spec, dict) else ():
                for result in (test.get("results") or ()) if isinstance(test, dict) else ():
                    attachments = result.get("attachments") if isinstance(result, dict) else None
                    if isinstance(attachments, list):
                        yield attachments


def _files_under(root: Path) -> list[str]:
    names: list[str] = []
    for current, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in WALK_PRUNED_DIRS]
        base = Path(current).relative_to(root)
        names.extend((base / name).as_posix() for name in files)
    return names


class _Locator:
    """Finds a report's attachment paths inside the folder.

    A path that exists inside the folder is taken as is. Otherwise (the report was written on
    another machine, or the folder was moved) the file is looked up by the longest unique suffix
    of its path among the folder's files, the way the server maps paths in an uploaded zip.
    """

    def __init__(self, root: Path, report_dir: Path) -> None:
        self.root = root
        self.report_dir = report_dir
        self._mapper: PathMapper | None = None

    def locate(self, raw: str) -> tuple[str | None, bool]:
        """The zip entry for ``raw`` (or None), and whether ``raw`` points outside the folder."""
        target = Path(raw)
        if not target.is_absolute():
            target = self.report_dir / target
        resolved = target.resolve()
        inside = resolved.is_relative_to(self.root)
        if inside and resolved.is_file():
            return resolved.relative_to(self.root).as_posix(), False
        if self._mapper is None:
            self._mapper = PathMapper(_files_under(self.root))
        entry = self._mapper.resolve(raw)
        if entry is not None and (self.root / entry).resolve().is_relative_to(self.root):
            return entry, False
        return None, not inside and resolved.exists()


def plan_bundle(directory: Path) -> tuple[Bundle, dict[str, Any]]:
    """Find the report, map its attachment paths into the folder, rewrite them in the report."""
    root = directory.resolve()
    report_path, report = find_report(directory)
    bundle = Bundle(report=report_path)
    locator = _Locator(root, report_path.resolve().parent)
    for attachments in _attachment_lists(report.get("suites")):
        for attachment in attachments:
            raw = attachment.get("path") if isinstance(attachment, dict) else None
            if not isinstance(raw, str) or not raw:
                continue
            entry, outside = locator.locate(raw)
            if entry is None:
                if outside:
                    bundle.outside += 1
                else:
                    bundle.missing += 1
                continue
            if entry == REPORT_ENTRY:
                continue
            bundle.attachments[entry] = (root / entry).resolve()
            attachment["path"] = entry
    return bundle, report


def write_bundle(directory: Path, destination: Path) -> Bundle:
    """Write the folder's zip to ``destination``; attachment files are streamed, not loaded."""
    bundle, report = plan_bundle(directory)
    with zipfile.ZipFile(destination, "w", allowZip64=True, strict_timestamps=False) as archive:
        archive.writestr(REPORT_ENTRY, orjson.dumps(report), compress_type=zipfile.ZIP_DEFLATED)
        for entry, path in sorted(bundle.attachments.items()):
            compression = (
                zipfile.ZIP_STORED
                if path.suffix.lower() in _STORED_SUFFIXES
                else zipfile.ZIP_DEFLATED
            )
            archive.write(os.fspath(path), entry, compress_type=compression)
    return bundle
