"""Playdeck: a self-hosted dashboard for automated test results."""

__version__ = "0.1.0"
