"""What the paths given to ``playdeck upload`` are: folders, zips, Playwright JSON reports and
other report files; where a folder's report or zips are; the ``file`` parts they are sent as."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playdeck.cli.bundle import (
    BundleError,
    find_report,
    no_report,
    output_dirs,
    read_report,
    write_bundle,
)
from playdeck.cli.connection import EXIT_USAGE, Reporter
from playdeck.cli.multipart import FilePart
from playdeck.ingest.parsers.archives import zip_bytes_is_zip

# Missing attachment paths named in the warning; the rest are counted.
_MISSING_SHOWN = 5


def is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return zip_bytes_is_zip(handle.read(4))


def zips_in(folders: list[Path]) -> list[Path]:
    """Zips in the folders (``blob-report/``, a folder of every shard's blob report)."""
    return sorted(p for f in folders for p in f.iterdir() if p.is_file() and is_zip(p))


@dataclass(slots=True)
class Inputs:
    """The paths given, sorted by what they are."""

    folders: list[Path]
    zips: list[Path]
    reports: list[tuple[Path, dict[str, Any]]]  # Playwright JSON reports
    others: list[Path]  # JUnit XML, the PhenX reporter's body: sent as they are

    @classmethod
    def of(cls, paths: list[Path]) -> Inputs:
        inputs = cls(folders=[], zips=[], reports=[], others=[])
        for path in dict.fromkeys(paths):
            if path.is_dir():
                inputs.folders.append(path)
            elif is_zip(path):
                inputs.zips.append(path)
            elif path.suffix.lower() == ".json" and (report := read_report(path)) is not None:
                inputs.reports.append((path, report))
            else:
                inputs.others.append(path)
        return inputs


def report_in(folders: list[Path], *, beside: bool) -> tuple[Path, dict[str, Any]] | None:
    """The report in the first folder that has one (``beside``: or next to it)."""
    for folder in folders:
        try:
            return find_report(folder, beside=beside)
        except BundleError:
            continue
    return None


@contextmanager
def file_parts(paths: list[Path], out: Reporter) -> Iterator[list[FilePart]]:
    """``file`` parts for any mix of paths.

    Zips (blob reports of every shard, say) go as they are, several making one run. A
    Playwright JSON report, given or found in a folder given (or beside it), is packed into a
    zip with the attachment files it points to, looked for in the folders given (or the
    report's own folder when none is). Other report files (JUnit XML) go as they are.
    """
    given = Inputs.of(paths)
    if given.zips:
        if given.folders or given.reports or given.others:
            out.fail(
                "zips are uploaded with other zips only, not with files or folders", EXIT_USAGE
            )
        yield [FilePart.for_path(p) for p in given.zips]
        return
    reports = given.reports
    if not reports and given.folders:
        found = report_in(given.folders, beside=False)
        zips = zips_in(given.folders)
        if found is None and zips and not given.others:
            out.info(f"Sending {len(zips)} zip(s) found in {', '.join(map(str, given.folders))}")
            yield [FilePart.for_path(p) for p in zips]
            return
        found = found or report_in(given.folders, beside=True)
        if found is None:
            out.fail(str(no_report(given.folders[0])), EXIT_USAGE)
        reports = [found]
    if not reports:
        yield [FilePart.for_path(p) for p in given.others]
        return
    if len(reports) > 1 or given.others:
        out.fail(
            "one Playwright JSON report per upload, with the folders of its attachments "
            "(send JUnit files in an upload of their own)",
            EXIT_USAGE,
        )
    report_path, report = reports[0]
    # Alone, a report's files are looked for beside it and in the run's output folders.
    roots = given.folders or [
        report_path.parent,
        *output_dirs(report, report_path, Path.cwd()),
    ]
    with tempfile.TemporaryDirectory(prefix="playdeck-upload-") as tmp:
        archive = Path(tmp) / f"{report_path.resolve().parent.name or 'report'}.zip"
        try:
            bundle = write_bundle(report_path, report, roots, archive)
        except OSError as exc:
            out.fail(f"cannot pack {report_path}: {exc}", EXIT_USAGE)
        note = f"Packed {report_path.name} with {len(bundle.attachments)} attachment file(s)"
        if bundle.outside:
            note += f"; {bundle.outside} outside {', '.join(map(str, roots))} left out"
        if given.folders or bundle.outside:  # a report given alone is packed quietly
            out.info(note)
        if bundle.missing:
            shown = ", ".join(bundle.missing[:_MISSING_SHOWN])
            more = (
                f" and {len(bundle.missing) - _MISSING_SHOWN} more"
                if len(bundle.missing) > _MISSING_SHOWN
                else ""
            )
            out.warn(
                f"{len(bundle.missing)} attachment file(s) the report points to are missing "
                f"and not uploaded (give the folder that holds them): {shown}{more}"
            )
        yield [FilePart.for_path(archive, filename=archive.name)]
