"""Runs stored in parts: sharded CI builds merged by a run key, and live runs streamed while
the suite runs (``shards`` pure rules, ``service`` the writes, ``sweeper`` the timeouts)."""
