"""Server-made charts: pass-rate sparkline, per-run outcome bars, duration line, history strip.

Pure functions from numbers to ``Markup``. Colours come from CSS classes (``o-passed``...), never
from ``style`` attributes, which the page's Content-Security-Policy forbids. Every value
reaches the markup through ``Markup.format``, which escapes it (tooltips carry report text).

A chart is one picture to assistive technology (``role="img"`` with a name that says what it
shows), so it holds no links: a link inside an image is unreachable, and axe reports it as
``nested-interactive``. The tables next to the charts carry the links; the history strip, whose
squares are its links, is an HTML list, not SVG. Axes are HTML around the SVG (``plot``):
SVG text in a chart stretched to its box would be stretched with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from playdeck.outcomes import Outcome

# Stack order of a bar, bottom first: failures sit on the baseline, where runs compare easily.
# Timed out and interrupted tests are drawn as failed (see RunBar.failed).
BAR_SEGMENTS = (Outcome.FAILED, Outcome.FLAKY, Outcome.PASSED, Outcome.SKIPPED)
SPARK_FLOOR = 0.8
MIN_SEGMENT = 3.0  # viewBox units: a proportion bar's smallest segment
# The smallest failed segment of a run's bar, in the bars' viewBox (140 high): one failure among
# thousands of tests must read as a failure, not as a 1 px sliver.
MIN_FAILED = 8.0


@dataclass(frozen=True, slots=True)
class RunBar:
    label: str
    when: str  # the run's date as the axis shows it
    passed: int
    failed: int  # failed + timed out + interrupted
    flaky: int
    skipped: int

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.flaky + self.skipped


@dataclass(frozen=True, slots=True)
class Point:
    value: float
    label: str
    when: str = ""  # the date as the axis shows it


@dataclass(frozen=True, slots=True)
class Cell:
    outcome: str
    label: str
    href: str


def _n(value: float) -> str:
    """A coordinate: short, and never in exponent notation."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def _join(parts: Iterable[Markup]) -> Markup:
    return Markup("").join(parts)


def _svg(
    css: str,
    width: float,
    height: float,
    label: str,
    body: Markup,
    *,
    fit: bool,
) -> Markup:
    """``fit``: stretch to the box CSS gives (bars, lines), else keep the proportions."""
    return Markup(
        '<svg class="chart {css}" viewBox="0 0 {w} {h}" preserveAspectRatio="{aspect}" '
        'role="img" aria-label="{label}" xmlns="http://www.w3.org/2000/svg">'
        "<title>{label}</title>{body}</svg>"
    ).format(
        css=css,
        w=_n(width),
        h=_n(height),
        aspect="none" if fit else "xMidYMid meet",
        label=label,
        body=body,
    )


def _rect(css: str, x: float, y: float, w: float, h: float, *, rx: float = 0) -> Markup:
    return Markup('<rect class="{}" x="{}" y="{}" width="{}" height="{}" rx="{}"/>').format(
        css, _n(x), _n(y), _n(w), _n(h), _n(rx)
    )


def _line(css: str, x1: float, y1: float, x2: float, y2: float) -> Markup:
    return Markup('<line class="{}" x1="{}" y1="{}" x2="{}" y2="{}"/>').format(
        css, _n(x1), _n(y1), _n(x2), _n(y2)
    )


def _points(coords: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)


def _plot(svg: Markup, *, top: str, bottom: str, first: str, last: str) -> Markup:
    """``svg`` with its value scale (``top`` at the top, ``bottom`` at the baseline) on the
    left and its first and last dates below. The labels are hidden from assistive technology:
    the chart's name says the same in words."""
    return Markup(
        '<div class="plot"><div class="plot__y" aria-hidden="true"><span>{}</span><span>{}</span>'
        '</div><div class="plot__area">{}</div><div class="plot__x" aria-hidden="true">'
        "<span>{}</span><span>{}</span></div></div>"
    ).format(top, bottom, svg, first, last)


def sparkline(
    rates: Sequence[float | None], *, label: str, width: int = 240, height: int = 40
) -> Markup:
    """Pass rate (0..1) of consecutive runs, oldest first; a run where nothing ran is a gap.

    The scale starts at 80% (lower when a run did worse): a healthy suite lives near the top,
    and a drop from 100% to 95% must still show. Both ends of the scale are written beside it.
    """
    pad = 4.0
    floor = min([SPARK_FLOOR, *(r for r in rates if r is not None)])
    span = (1.0 - floor) or 1.0
    usable_h = height - 2 * pad
    step = (width - 2 * pad) / max(1, len(rates) - 1)
    segments: list[list[tuple[float, float]]] = [[]]
    for i, rate in enumerate(rates):
        if rate is None:
            segments.append([])
            continue
        segments[-1].append((pad + i * step, pad + (1.0 - rate) / span * usable_h))
    body = [
        _line("spark-base", pad, pad, width - pad, pad),
        _line("spark-base", pad, height - pad, width - pad, height - pad),
    ]
    body += [
        Markup('<polyline class="spark-line" points="{}"/>').format(_points(points))
        for points in segments
        if len(points) > 1
    ]
    last = next((s[-1] for s in reversed(segments) if s), None)
    if last is not None:
        body.append(
            Markup('<circle class="spark-dot" cx="{}" cy="{}" r="3"/>').format(
                _n(last[0]), _n(last[1])
            )
        )
    svg = _svg("sparkline", width, height, label, _join(body), fit=False)
    return Markup(
        '<div class="spark"><div class="spark__scale" aria-hidden="true"><span>100%</span>'
        "<span>{}</span></div>{}</div>"
    ).format(f"{floor * 100:.0f}%", svg)


def _bar_segments(bar: RunBar, x: float, w: float, scale: float, bottom: float) -> list[Markup]:
    parts = []
    y = bottom
    for name in BAR_SEGMENTS:
        count = getattr(bar, name)
        if count <= 0:
            continue
        h = max(MIN_FAILED if name == Outcome.FAILED else MIN_SEGMENT, count * scale)
        y -= h
        parts.append(_rect(f"o-{name}", x, y, w, h))
    return parts


def run_bars(bars: Sequence[RunBar], *, label: str, width: int = 720, height: int = 140) -> Markup:
    """One stacked bar per run (oldest first), height by test count, failures at the bottom
    and never thinner than ``MIN_FAILED``; a tooltip per bar, the scale and dates around it."""
    top = max((b.total for b in bars), default=0)
    slot = width / max(len(bars), 20)
    w = max(1.0, slot * 0.72)
    scale = (height - MIN_FAILED) / top if top else 0.0
    body = [
        _line("grid", 0, 0.5, width, 0.5),
        _line("grid", 0, height / 2, width, height / 2),
        _line("axis", 0, height, width, height),
    ]
    for i, bar in enumerate(bars):
        x = i * slot + (slot - w) / 2
        body.append(
            Markup("<g><title>{}</title>{}{}</g>").format(
                bar.label,
                _rect("hit", i * slot, 0, slot, height),
                _join(_bar_segments(bar, x, w, scale, height)),
            )
        )
    svg = _svg("bars", width, height, label, _join(body), fit=True)
    return _plot(
        svg,
        top=f"{top} tests",
        bottom="0",
        first=bars[0].when if bars else "",
        last=bars[-1].when if bars else "",
    )


def line_chart(
    points: Sequence[Point],
    *,
    label: str,
    top_label: Callable[[float], str] = str,
    width: int = 720,
    height: int = 140,
) -> Markup:
    """Values over consecutive items (oldest first) from a zero baseline, with a dot (and a
    tooltip) per point; the largest value (as ``top_label`` writes it) tops the scale."""
    pad = 4.0
    top = max((p.value for p in points), default=0.0)
    step = (width - 2 * pad) / max(1, len(points) - 1)

    def y_of(value: float) -> float:
        return height - pad - (value / top * (height - 2 * pad) if top else 0.0)

    coords = [(pad + i * step, y_of(p.value)) for i, p in enumerate(points)]
    body = [
        _line("grid", 0, pad, width, pad),
        _line("grid", 0, height / 2, width, height / 2),
        _line("axis", 0, height - 0.5, width, height - 0.5),
    ]
    if len(coords) > 1:
        area = [(coords[0][0], float(height)), *coords, (coords[-1][0], float(height))]
        body.append(Markup('<polygon class="line-area" points="{}"/>').format(_points(area)))
        body.append(Markup('<polyline class="line" points="{}"/>').format(_points(coords)))
    for (x, y), point in zip(coords, points, strict=True):
        dot = Markup('<circle class="line-dot" cx="{}" cy="{}" r="3"><title>{}</title></circle>')
        body.append(dot.format(_n(x), _n(y), point.label))
    svg = _svg("line-chart", width, height, label, _join(body), fit=True)
    return _plot(
        svg,
        top=top_label(top),
        bottom="0",
        first=points[0].when if points else "",
        last=points[-1].when if points else "",
    )


def history_strip(cells: Sequence[Cell], *, label: str) -> Markup:
    """One square per result (oldest first), coloured by outcome; each is a link to its run.

    An HTML list of links, so each square is a link every assistive technology reaches."""
    items = [
        Markup(
            '<li><a class="cell o-{}" href="{}" title="{}"><span class="sr-only">{}</span></a></li>'
        ).format(cell.outcome, cell.href, cell.label, cell.label)
        for cell in cells
    ]
    return Markup('<ol class="strip" aria-label="{}">{}</ol>').format(label, _join(items))


def counts_bar(
    *, passed: int, failed: int, flaky: int, skipped: int, width: int = 100, height: int = 8
) -> Markup:
    """A horizontal proportion bar of a run's outcomes (failures first)."""
    total = passed + failed + flaky + skipped
    label = f"{passed} passed, {failed} failed, {flaky} flaky, {skipped} skipped"
    body = [_rect("track", 0, 0, width, height, rx=2)]
    x = 0.0
    counts = {
        Outcome.FAILED: failed,
        Outcome.FLAKY: flaky,
        Outcome.PASSED: passed,
        Outcome.SKIPPED: skipped,
    }
    for name in BAR_SEGMENTS:
        if not total or counts[name] <= 0:
            continue
        w = min(max(MIN_SEGMENT / 2, counts[name] / total * width), width - x)
        body.append(_rect(f"o-{name}", x, 0, w, height))
        x += w
    return _svg("counts-bar", width, height, label, _join(body), fit=True)


def rate_bar(rate: float, *, width: int = 80, height: int = 8) -> Markup:
    """A 0..1 share as a filled bar (flake rate)."""
    rate = min(1.0, max(0.0, rate))
    body = _join(
        [
            _rect("track", 0, 0, width, height, rx=2),
            _rect("o-flaky", 0, 0, rate * width, height, rx=2),
        ]
    )
    return _svg("rate", width, height, f"{rate * 100:.0f}%", body, fit=True)
