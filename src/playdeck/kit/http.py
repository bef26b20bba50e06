"""HTTP's own words, defined once."""

from __future__ import annotations

# RFC 9110 section 9.2.1: methods that ask for no change. They need no CSRF token and run on
# the read-only database engine where one is configured.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
