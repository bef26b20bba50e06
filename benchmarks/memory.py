"""Peak server memory by report size: one fresh ``playdeck serve`` per size, one report each.

For each size, starts the server on a fresh database, reads its resident memory once it is ready,
sends one report of that many tests to ``/api/test-runs/submit``, and reads the peak resident
memory of the server and its ingest worker processes together (sampled every 20 ms, and never
below the serving process's own ``VmHWM``), then their resident memory after the request
(memory not given back).

    python benchmarks/memory.py                                  # 1k, 10k, 50k, 100k tests
    python benchmarks/memory.py --sizes 10000,175000             # 175k tests: about 199 MB

Target (issue "performance"): peak RSS while ingesting the report at the 200 MiB upload limit
<= 2 x the body + 150 MiB. Printed for every size, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from server import PeakSampler, load_average, machine, playdeck_server, postgres_database

from ingest import generate_report, send  # benchmarks/ingest.py

MIB = 1024 * 1024
TARGET_OVERHEAD_MIB = 150


def measure(size: int, database_url: str, scratch: Path, port: int) -> None:
    body = orjson.dumps(generate_report(size, seed=1))
    gc.collect()  # the report's objects, before the server starts competing for memory
    data = scratch / f"data-{size}"
    data.mkdir()
    with (
        playdeck_server(
            database_url, data, env={"PLAYDECK_MAX_UPLOAD_MB": "1024"}, port=port
        ) as server,
        httpx.Client(timeout=3600) as client,
    ):
        time.sleep(2)  # the ingest workers start beside the server
        ready = server.rss_mib()
        with PeakSampler(server) as sampler:
            timing = send(client, server, "submit", body, scratch)
        peak = max(sampler.peak_mib, server.peak_rss_mib())
        time.sleep(5)  # a worker that grew is replaced after answering (and takes a while to exit)
        after = server.rss_mib()
        own_peak = server.peak_rss_mib()
    body_mib = len(body) / MIB
    target = 2 * body_mib + TARGET_OVERHEAD_MIB
    print(
        f"{size:>9,} {body_mib:9.1f} {ready:9.0f} {peak:9.0f} {peak / body_mib:7.1f}x "
        f"{after:9.0f} {own_peak:9.0f} {target:9.0f}  {'ok' if peak <= target else 'over'}"
        f"   ({timing.seconds:.1f} s, {os.getloadavg()[0]:.1f} load)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000,100000", help="tests per report")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--postgres", metavar="SERVER_URL", help="throwaway database per size")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"Before: {load_average()}")
    header = (
        f"{'tests':>9} {'body MiB':>9} {'ready':>9} {'peak':>9} {'/body':>8} "
        f"{'after':>9} {'server':>9} {'target':>9}   (RSS of the server and its ingest workers "
        "in MiB, peak sampled every 20 ms; server: the serving process's own peak; "
        "target = 2 x body + 150 MiB)"
    )
    with tempfile.TemporaryDirectory(prefix="playdeck-bench-") as tmp:
        scratch = Path(tmp)
        for number, size in enumerate(sizes):
            with contextlib.ExitStack() as stack:
                if args.postgres:
                    database_url = stack.enter_context(postgres_database(args.postgres))
                else:
                    database_url = f"sqlite:///{scratch / f'playdeck-{size}.db'}"
                if number == 0:
                    print(f"Machine: {machine(database_url)}")
                    print(header)
                measure(size, database_url, scratch, args.port)
    print(f"After: {load_average()}")


if __name__ == "__main__":
    main()
