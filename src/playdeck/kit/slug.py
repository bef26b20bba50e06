from __future__ import annotations

import re
import unicodedata

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """URL-safe slug; never all digits, so ``/projects/{id-or-slug}`` stays unambiguous."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_name.lower()).strip("-")[:180] or "project"
    return f"p-{slug}" if slug.isdigit() else slug
