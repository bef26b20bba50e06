"""The charts: geometry from numbers, scales and dates beside them, text escaped, colours by
class, no links inside an SVG."""

from __future__ import annotations

import re

from playdeck.web import charts

from .conftest import parse


def _floats(svg: str, attribute: str) -> list[float]:
    return [float(v) for v in re.findall(rf'\b{attribute}="([-\d.]+)"', svg)]


def test_sparkline_leaves_gaps_where_nothing_ran_and_marks_the_latest_run() -> None:
    svg = str(charts.sparkline([1.0, 0.5, None, 0.9, 1.0], label="pass rate"))
    assert svg.count("<polyline") == 2  # [1.0, 0.5] and [0.9, 1.0]
    assert svg.count('class="spark-dot"') == 1
    assert 'aria-label="pass rate"' in svg and 'role="img"' in svg


def test_sparkline_scale_starts_at_eighty_percent_unless_a_run_did_worse() -> None:
    high = str(charts.sparkline([1.0, 0.9], label="x", height=40))
    points = re.search(r'points="([^"]+)"', high)
    assert points is not None
    (_x1, y1), (_x2, y2) = (map(float, p.split(",")) for p in points.group(1).split())
    assert y1 == 4.0 and y2 == 4.0 + 0.5 * 32  # 0.9 sits halfway between 100% and 80%
    low = str(charts.sparkline([1.0, 0.2], label="x", height=40))
    assert "36" in re.search(r'points="([^"]+)"', low).group(1)  # type: ignore[union-attr]


def test_empty_and_single_value_charts_render() -> None:
    for svg in (
        charts.sparkline([], label="none"),
        charts.sparkline([None], label="nothing ran"),
        charts.run_bars([], label="no runs"),
        charts.line_chart([], label="no points"),
        charts.line_chart([charts.Point(value=0, label="zero")], label="one"),
        charts.history_strip([], label="no results"),
        charts.counts_bar(passed=0, failed=0, flaky=0, skipped=0),
    ):
        html = str(svg)
        assert "<svg" in html or html.startswith('<ol class="strip"'), html
        assert not parse(html).all("a")  # nothing to link to, nothing broken either


def test_run_bars_stack_outcomes_with_failures_on_the_baseline_with_scale_and_dates() -> None:
    bars = [
        charts.RunBar(when="2026-11-01", label="one", passed=90, failed=10, flaky=0, skipped=0),
        charts.RunBar(when="2026-11-02", label="two", passed=100, failed=0, flaky=0, skipped=0),
    ]
    html = str(charts.run_bars(bars, label="trend", height=100))
    page = parse(html)
    assert not page.all("a")  # the runs table has the links; none inside the picture
    assert page.all("svg")[0].attrs["role"] == "img"
    assert page.all("svg")[0].attrs["aria-label"] == "trend"
    scale = html.split('class="plot__y"', 1)[1].split("</div>", 1)[0]
    assert "100 tests" in scale and ">0<" in scale
    dates = html.split('class="plot__x"', 1)[1].split("</div>", 1)[0]
    assert "2026-11-01" in dates and "2026-11-02" in dates
    first = html.split("</g>")[0]
    assert "<title>one</title>" in first  # each bar says what it is on hover
    failed = parse(first).all("rect", **{"class": "o-failed"})[0].attrs
    passed = parse(first).all("rect", **{"class": "o-passed"})[0].attrs
    assert float(failed["y"]) + float(failed["height"]) == 100  # on the baseline
    assert float(passed["y"]) + float(passed["height"]) == float(failed["y"])


def test_a_single_failure_among_many_tests_stays_visible() -> None:
    bar = charts.RunBar(when="d", label="x", passed=9999, failed=1, flaky=0, skipped=0)
    failed = parse(str(charts.run_bars([bar], label="t"))).all("rect", **{"class": "o-failed"})
    assert float(failed[0].attrs["height"]) >= charts.MIN_FAILED >= 8  # of 140: not a sliver


def test_report_text_in_tooltips_and_links_is_escaped() -> None:
    hostile = '<script>alert("x")</script> & "quotes"'
    svgs = [
        charts.run_bars(
            [charts.RunBar(when=hostile, label=hostile, passed=1, failed=0, flaky=0, skipped=0)],
            label=hostile,
        ),
        charts.line_chart([charts.Point(value=1, label=hostile, when=hostile)], label="d"),
        charts.history_strip(
            [charts.Cell(outcome='passed" onmouseover="x', label=hostile, href="/runs/1?a=1&b=2")],
            label="s",
        ),
        charts.sparkline([1.0], label=hostile),
    ]
    for svg in map(str, svgs):
        assert "<script>" not in svg
        assert '" onclick="' not in svg and '" onmouseover="' not in svg
        assert "&lt;script&gt;" in svg or "&amp;b=2" in svg
        page = parse(svg)
        assert not page.all("script")
        assert not [e for e in page.elements if any(a.startswith("on") for a in e.attrs)]


def test_history_strip_is_a_list_of_links_one_per_result_oldest_first() -> None:
    cells = [
        charts.Cell(outcome=o, label=f"{o} in run {i}", href=f"/runs/{i}")
        for i, o in enumerate(["passed", "failed", "flaky"])
    ]
    html = str(charts.history_strip(cells, label="history"))
    page = parse(html)
    assert not page.all("svg")  # links inside SVG are what axe calls nested-interactive
    assert page.all("ol", **{"class": "strip", "aria-label": "history"})
    links = page.all("a")
    assert [a.attrs["href"] for a in links] == ["/runs/0", "/runs/1", "/runs/2"]
    assert all("tabindex" not in a.attrs for a in links)
    assert [a.attrs["class"] for a in links] == ["cell o-passed", "cell o-failed", "cell o-flaky"]
    # Each link's name is its text (hidden visually), the same words as its tooltip.
    assert "failed in run 1" in page.text
    assert links[1].attrs["title"] == "failed in run 1"


def test_sparkline_writes_its_scale_beside_it() -> None:
    html = str(charts.sparkline([1.0, 0.5], label="x"))
    scale = html.split('class="spark__scale"', 1)[1].split("</div>", 1)[0]
    assert "100%" in scale and "50%" in scale


def test_counts_bar_segments_fill_the_width_in_proportion() -> None:
    svg = str(charts.counts_bar(passed=50, failed=25, flaky=25, skipped=0, width=100))
    rects = parse(svg).all("rect")
    widths = {r.attrs["class"]: float(r.attrs["width"]) for r in rects}
    assert widths == {"track": 100, "o-failed": 25, "o-flaky": 25, "o-passed": 50}
    assert "50 passed, 25 failed, 25 flaky, 0 skipped" in svg


def test_line_chart_scales_from_zero_to_the_largest_value() -> None:
    points = [charts.Point(value=v, label=str(v), when=f"day {v}") for v in (0, 50, 100)]
    html = str(
        charts.line_chart(points, label="durations", height=108, top_label=lambda v: f"{v:.0f} ms")
    )
    ys = _floats(html, "cy")
    assert ys == [104, 54, 4]
    assert not parse(html).all("a")
    assert "100 ms" in html.split('class="plot__y"', 1)[1].split("</div>", 1)[0]
    assert "day 0" in html and "day 100" in html


def test_rate_bar_clamps_to_the_unit_interval() -> None:
    assert _floats(str(charts.rate_bar(1.7, width=80)), "width") == [80, 80]
    assert _floats(str(charts.rate_bar(-1, width=80)), "width")[-1] == 0
