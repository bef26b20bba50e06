"""Backups: a consistent copy of the database and of the files it references, and restore."""
