"""Playwright traces: finding Playwright's own Trace Viewer on this machine, serving it on the
content origin, and what a stored trace says about the Playwright that recorded it."""
