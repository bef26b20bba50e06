"""API keys: creation, listing and revocation (service), and their resolution to a principal."""
