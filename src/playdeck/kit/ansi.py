"""Terminal colours (ANSI SGR codes) as HTML: escaped text in ``<span class="ansi-…">``.

Test runners colour their errors (Playwright's Expected/Received, its code frame's ``>``
marker); stripping the codes loses what a reader looks for first. The converter is small on
purpose, so it can be read in full: every piece of text is escaped (``markupsafe``), the only
markup it writes is ``<span class="…">`` and ``</span>`` with class names from fixed tables
(no ``style`` attribute: the page's CSP allows none), and every escape sequence that is not a
colour is dropped. 256-colour and true-colour codes are read past, not shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from markupsafe import Markup, escape

from playdeck.kit.text import strip_ansi

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
# Colour numbers 0-7 for 30-37/40-47, 8-15 for the bright 90-97/100-107.
_FG = {**{30 + i: i for i in range(8)}, **{90 + i: 8 + i for i in range(8)}}
_BG = {**{40 + i: i for i in range(8)}, **{100 + i: 8 + i for i in range(8)}}


@dataclass(frozen=True, slots=True)
class _Style:
    fg: int | None = None
    bg: int | None = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False

    def classes(self) -> str:
        names = []
        if self.fg is not None:
            names.append(f"ansi-fg-{self.fg}")
        if self.bg is not None:
            names.append(f"ansi-bg-{self.bg}")
        for flag in ("bold", "dim", "italic", "underline"):
            if getattr(self, flag):
                names.append(f"ansi-{flag}")
        return " ".join(names)


# SGR codes that set or clear attributes; 0 (reset) and the colours are handled in ``_apply``.
_CHANGES: dict[int, dict[str, Any]] = {
    1: {"bold": True},
    2: {"dim": True},
    3: {"italic": True},
    4: {"underline": True},
    22: {"bold": False, "dim": False},
    23: {"italic": False},
    24: {"underline": False},
    39: {"fg": None},
    49: {"bg": None},
}


def _apply(style: _Style, params: str) -> _Style:
    codes = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else [0]
    index = 0
    while index < len(codes):
        code = codes[index]
        index += 1
        if code == 0:
            style = _Style()
        elif code in _CHANGES:
            style = replace(style, **_CHANGES[code])
        elif code in _FG:
            style = replace(style, fg=_FG[code])
        elif code in _BG:
            style = replace(style, bg=_BG[code])
        elif code in (38, 48):
            # 38;5;n or 38;2;r;g;b: the extended colour's arguments are skipped.
            kind = codes[index] if index < len(codes) else None
            index += 2 if kind == 5 else 4 if kind == 2 else 1
    return style


def ansi_to_html(text: str) -> Markup:
    """``text`` as safe HTML, its SGR colours as classed spans; other escapes removed."""
    out: list[Markup] = []
    style = _Style()
    position = 0
    for match in _SGR.finditer(text):
        _emit(out, text[position : match.start()], style)
        style = _apply(style, match.group(1))
        position = match.end()
    _emit(out, text[position:], style)
    return Markup("").join(out)


def _emit(out: list[Markup], chunk: str, style: _Style) -> None:
    text = strip_ansi(chunk).replace("\x1b", "")
    if not text:
        return
    classes = style.classes()
    # Markup.format escapes its arguments (html.escape rules): text never becomes markup.
    out.append(
        Markup('<span class="{}">{}</span>').format(classes, text) if classes else escape(text)
    )
