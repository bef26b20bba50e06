"""Service accounts: CI identities that belong to a project (or, global, to the instance), not
to a person, so that their keys survive anyone leaving."""
