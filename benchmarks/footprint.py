"""What one Playdeck needs to be sized: memory of a serving process, disk per stored run.

Starts ``playdeck serve`` on a fresh database (SQLite in a temporary directory, or a throwaway
PostgreSQL database with ``--postgres``), reads the process's resident memory idle, sends
``--runs`` generated Playwright reports of ``--tests`` tests each (the ingest benchmark's
report: failures with screenshots, retries, output), then prints the peak resident memory and
the disk used by the database and the file store, in total and per run and per 1,000 results.
Figures go to docs/operations.md ("Sizing").

    python benchmarks/footprint.py
    python benchmarks/footprint.py --runs 20 --tests 10000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import tempfile
from pathlib import Path

import httpx
from server import machine, playdeck_server, postgres_database
from sqlalchemy import text

from ingest import generate_report
from playdeck.db import make_engine

MIB = 1024 * 1024


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def _server_pid(port: int) -> int:
    """The process listening on ``port`` (the ``playdeck serve`` the helper started)."""
    out = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return int(out.split("pid=")[1].split(",")[0])


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _postgres_size(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        size = int(conn.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    engine.dispose()
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="reports to send")
    parser.add_argument("--tests", type=int, default=10_000, help="tests per report")
    parser.add_argument("--postgres", metavar="SERVER_URL", help="measure on PostgreSQL")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        with (
            postgres_database(args.postgres)
            if args.postgres
            else contextlib.nullcontext(f"sqlite:///{data_dir / 'playdeck.db'}") as database_url
        ):
            print(machine(database_url))
            with playdeck_server(database_url, data_dir) as base:
                pid = _server_pid(int(base.rsplit(":", 1)[1]))
                idle = _status(pid, "VmRSS")
                with httpx.Client(timeout=300) as client:
                    for seed in range(args.runs):
                        body = json.dumps(generate_report(args.tests, seed=seed)).encode()
                        response = client.post(
                            f"{base}/api/test-runs/submit",
                            params={"projectName": "footprint"},
                            content=body,
                            headers={"Content-Type": "application/json"},
                        )
                        response.raise_for_status()
                peak = _status(pid, "VmHWM")
            database = (
                _postgres_size(database_url)
                if args.postgres
                else sum(p.stat().st_size for p in data_dir.glob("playdeck.db*"))
            )
            files = _tree_size(data_dir / "files")
    results = args.runs * args.tests
    print(f"resident memory: idle {idle / MIB:.0f} MiB, peak {peak / MIB:.0f} MiB")
    per_thousand = database / results * 1000 / MIB
    print(f"database: {database / MIB:.1f} MiB ({per_thousand:.2f} MiB per 1,000 results)")
    print(f"files: {files / MIB:.1f} MiB ({files / args.runs / MIB:.2f} MiB per run)")


if __name__ == "__main__":
    main()
