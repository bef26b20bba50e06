"""What the paths given to ``playdeck upload`` are: folders, zips, Playwright JSON reports and
other report files; where a folder's report or zips are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playdeck.cli.bundle import BundleError, find_report, read_report
from playdeck.ingest.parsers.archives import zip_bytes_is_zip


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
