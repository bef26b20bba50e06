"""Playdeck's pytest plugin: send a session's results to a Playdeck server (see docs/clients.md).

Loaded through the ``pytest11`` entry point in every pytest session where Playdeck is installed;
``plugin`` registers its options and nothing else until a server URL is configured.
"""
