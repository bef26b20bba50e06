"""The plugin's one error, importable without httpx."""

from __future__ import annotations


class SendError(Exception):
    """The run did not arrive. The message is one line for the terminal; it may hold secrets,
    which the caller redacts."""
