"""``playdeck`` (the console script) and ``python -m playdeck``: the command line, imported
only when the command runs.

The ingest workers are spawned processes, and a spawned process runs its parent's main script
again (as ``__mp_main__``) before it does anything else. The console script's main script
imports this module, so this module imports nothing: were it the command line itself, every
worker would load the whole command line and, through ``serve``, the web framework, for nothing
(28 MiB a worker; docs/performance.md, "Memory, fifth round")."""

from __future__ import annotations


def main() -> None:
    from playdeck.cli.main import app

    app()


if __name__ == "__main__":
    main()
