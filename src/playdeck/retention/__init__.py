"""Retention: per-project policies that prune old runs and their files, pinned runs, disk usage."""
