"""Quarantined tests: a project member marks a known-bad test so that its failures are still
reported but no longer fail the CI job (the pytest plugin, the Playwright reporter and
``playdeck gate`` read the project's list)."""
