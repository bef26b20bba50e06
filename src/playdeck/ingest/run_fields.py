"""A run's descriptive fields: what a client may say about its run beside the report."""

from __future__ import annotations

# Each field as the clients send it (camelCase: the upload form's fields, a live part's
# opening) → the ``RunRecord`` attribute and ``Run`` column it fills. A client's value
# overrides the report's (``use_cases.overrides_from``); across the reports of one upload or
# the parts of one run, the first that gives a value fills it (``merge``, ``live.service``).
CLIENT_NAMES = {
    "runName": "name",
    "branch": "branch",
    "commit": "commit_sha",
    "commitMessage": "commit_message",
    "author": "author",
    "ciProvider": "ci_provider",
    "buildNumber": "ci_build_number",
    "buildUrl": "ci_build_url",
    "environment": "environment",
}
RUN_FIELDS = tuple(CLIENT_NAMES.values())
