"""A Playwright JSON report and its attachment files packed into the zip layout the server
ingests.

The zip holds the JSON report at its root and every attachment file the report points to, stored
at its path relative to the folder it was found in; the report's attachment paths are rewritten
to those entries, so the server needs no guessing. Only files inside the folders given (or, for a
report given alone, its own folder) are packed, and never hidden files or files in hidden
folders: a report is written by the code under test, and a path it names elsewhere
(``/home/ci/.ssh/...``) must not turn an upload into a way to send the CI machine's files away.
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
    missing: list[str] = field(default_factory=list)  # referenced paths found nowhere
    outside: int = 0  # referenced files outside the folders (or hidden), not packed


def _candidates(directory: Path, depth: int = 1) -> Iterator[Path]:
    """JSON files in the folder, then (``depth`` 1) one level down; preferred names first at
    each level."""

    def ordered(paths: list[Path]) -> list[Path]:
        def rank(path: Path) -> tuple[int, str]:
            name = path.name.lower()
            preferred = PREFERRED_REPORT_NAMES.index(name) if name in PREFERRED_REPORT_NAMES else 9
            return preferred, name

        return sorted(paths, key=rank)

    top = [p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".json"]
    yield from ordered(top)
    if depth < 1:
        return
    subdirs = sorted(p for p in directory.iterdir() if p.is_dir() and p.name not in SKIPPED_DIRS)
    for subdir in subdirs:
        yield from ordered(
            [p for p in subdir.iterdir() if p.is_file() and p.suffix.lower() == ".json"]
        )


def read_report(path: Path) -> dict[str, Any] | None:
    """The content of ``path`` when it is a Playwright JSON report (``--reporter=json``)."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if b'"suites"' not in head and b'"config"' not in head:
        return None
    try:
        data = orjson.loads(path.read_bytes())
    except (orjson.JSONDecodeError, OSError):
        return None
    # The server's own rule for a Playwright report, so what is packed is what it reads.
    if isinstance(data, dict) and playwright_json.sniff(Head.of_value(data)):
        return data
    return None


def find_report(directory: Path, *, beside: bool = True) -> tuple[Path, dict[str, Any]]:
    """The Playwright JSON report of an output folder: in it or one level down, else (with
    ``beside``) beside it (``report.json`` next to ``test-results/``; not in the folders beside
    it, which are other things)."""
    for path in _candidates(directory):
        if (data := read_report(path)) is not None:
            return path, data
    parent = directory.resolve().parent
    if beside and parent != directory.resolve():
        for path in _candidates(parent, depth=0):
            if (data := read_report(path)) is not None:
                return path, data
    raise no_report(directory)


def no_report(directory: Path) -> BundleError:
    return BundleError(
        f"{directory}: no Playwright JSON report found (a *.json file written by "
        "--reporter=json, in the folder or one level down, or beside it)"
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
    """Finds a report's attachment paths inside the folders that may be packed.

    A path that exists inside one of them is taken as is. Otherwise (the report was written on
    another machine, or the folder was moved) the file is looked up by the longest unique suffix
    of its path among the folders' files, the way the server maps paths in an uploaded zip.
    """

    def __init__(self, roots: list[Path], report_dir: Path) -> None:
        self.roots = roots
        self.report_dir = report_dir
        self._mapper: PathMapper | None = None
        self._on_disk: dict[str, Path] = {}

    def _entry(self, path: Path) -> str | None:
        for index, root in enumerate(self.roots):
            if path.is_relative_to(root):
                relative = path.relative_to(root)
                if any(part.startswith(".") for part in relative.parts):
                    return None
                # The first folder's files keep their paths; others' are set apart by number.
                entry = relative.as_posix() if index == 0 else f"{index}/{relative.as_posix()}"
                self._on_disk[entry] = path
                return entry
        return None

    def locate(self, raw: str) -> tuple[str | None, bool]:
        """The zip entry for ``raw`` (or None), and whether ``raw`` exists but may not be sent."""
        target = Path(raw)
        if not target.is_absolute():
            target = self.report_dir / target
        resolved = target.resolve()
        if resolved.is_file() and (entry := self._entry(resolved)) is not None:
            return entry, False
        if self._mapper is None:
            names = [
                f"{index}/{name}"
                for index, root in enumerate(self.roots)
                for name in _files_under(root)
            ]
            self._mapper = PathMapper(names)
        found = self._mapper.resolve(raw)
        if found is not None:
            index, name = found.split("/", 1)
            candidate = (self.roots[int(index)] / name).resolve()
            if candidate.is_file() and (entry := self._entry(candidate)) is not None:
                return entry, False
        return None, resolved.exists()

    def path_of(self, entry: str) -> Path:
        return self._on_disk[entry]


def output_dirs(report: dict[str, Any], report_path: Path, workdir: Path) -> list[Path]:
    """Where the report's Playwright run wrote attachments, when that is inside ``workdir``.

    The config names each project's ``outputDir`` as an absolute path of the machine that ran
    the tests; on another machine (or in a moved checkout) a folder of the same name in
    ``workdir`` is taken instead. A folder outside ``workdir`` is never taken: the report is
    written by the code under test.
    """
    config = report.get("config")
    projects = config.get("projects") if isinstance(config, dict) else None
    named = {
        d
        for p in (projects if isinstance(projects, list) else ())
        if isinstance(p, dict) and isinstance(d := p.get("outputDir"), str) and d
    }
    found: list[Path] = []
    base = workdir.resolve()
    for name in sorted(named):
        for candidate in (report_path.resolve().parent / name, base / Path(name).name):
            resolved = candidate.resolve()
            inside = resolved.is_relative_to(base) and resolved != base
            if inside and resolved.is_dir() and resolved not in found:
                found.append(resolved)
                break
    return found


def plan_bundle(
    report_path: Path, report: dict[str, Any], roots: list[Path]
) -> tuple[Bundle, dict[str, Any]]:
    """Map the report's attachment paths into ``roots`` and rewrite them in the report."""
    bundle = Bundle(report=report_path)
    locator = _Locator([r.resolve() for r in roots], report_path.resolve().parent)
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
                    bundle.missing.append(raw)
                continue
            if entry == REPORT_ENTRY:
                continue
            bundle.attachments[entry] = locator.path_of(entry)
            attachment["path"] = entry
    return bundle, report


def write_bundle(
    report_path: Path, report: dict[str, Any], roots: list[Path], destination: Path
) -> Bundle:
    """Write the report's zip to ``destination``; attachment files are streamed, not loaded."""
    bundle, report = plan_bundle(report_path, report, roots)
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
