"""The SVG charts: geometry from numbers, text escaped, colours by class."""

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
        assert str(svg).startswith("<svg") and str(svg).endswith("</svg>")


def test_run_bars_stack_outcomes_with_failures_on_the_baseline_and_link_runs() -> None:
    bars = [
        charts.RunBar(href="/runs/1", label="one", passed=90, failed=10, flaky=0, skipped=0),
        charts.RunBar(href="/runs/2", label="two", passed=100, failed=0, flaky=0, skipped=0),
    ]
    svg = str(charts.run_bars(bars, label="trend", height=100))
    page = parse(svg)
    assert [a.attrs["href"] for a in page.all("a")] == ["/runs/1", "/runs/2"]
    assert all(a.attrs["tabindex"] == "-1" for a in page.all("a"))  # the table has the links
    first = svg.split("</a>")[0]
    failed = parse(first).all("rect", **{"class": "o-failed"})[0].attrs
    passed = parse(first).all("rect", **{"class": "o-passed"})[0].attrs
    assert float(failed["y"]) + float(failed["height"]) == 100  # on the baseline
    assert float(passed["y"]) + float(passed["height"]) == float(failed["y"])


def test_a_single_failure_among_many_tests_stays_visible() -> None:
    bar = charts.RunBar(href="/runs/1", label="x", passed=9999, failed=1, flaky=0, skipped=0)
    failed = parse(str(charts.run_bars([bar], label="t"))).all("rect", **{"class": "o-failed"})
    assert float(failed[0].attrs["height"]) >= charts.MIN_SEGMENT


def test_report_text_in_tooltips_and_links_is_escaped() -> None:
    hostile = '<script>alert("x")</script> & "quotes"'
    svgs = [
        charts.run_bars(
            [
                charts.RunBar(
                    href='/runs/1" onclick="x',
                    label=hostile,
                    passed=1,
                    failed=0,
                    flaky=0,
                    skipped=0,
                )
            ],
            label=hostile,
        ),
        charts.line_chart(
            [charts.Point(value=1, label=hostile, href="/runs/1?a=1&b=2")], label="d"
        ),
        charts.history_strip(
            [charts.Cell(outcome='passed" onmouseover="x', label=hostile, href="/runs/1")],
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


def test_history_strip_has_one_focusable_link_per_result_oldest_first() -> None:
    cells = [
        charts.Cell(outcome=o, label=f"{o} in run {i}", href=f"/runs/{i}")
        for i, o in enumerate(["passed", "failed", "flaky"])
    ]
    page = parse(str(charts.history_strip(cells, label="history", size=10, gap=2)))
    links = page.all("a")
    assert [a.attrs["href"] for a in links] == ["/runs/0", "/runs/1", "/runs/2"]
    assert all("tabindex" not in a.attrs for a in links)
    assert [a.attrs["aria-label"] for a in links][1] == "failed in run 1"
    assert [r.attrs["class"] for r in page.all("rect")] == ["o-passed", "o-failed", "o-flaky"]
    assert _floats(str(charts.history_strip(cells, label="h", size=10, gap=2)), "x") == [0, 12, 24]
    svg = page.all("svg")[0].attrs
    assert (svg["width"], svg["height"]) == ("34", "10")
    assert svg["role"] == "group"  # not "img": that would hide the links from screen readers


def test_counts_bar_segments_fill_the_width_in_proportion() -> None:
    svg = str(charts.counts_bar(passed=50, failed=25, flaky=25, skipped=0, width=100))
    rects = parse(svg).all("rect")
    widths = {r.attrs["class"]: float(r.attrs["width"]) for r in rects}
    assert widths == {"track": 100, "o-failed": 25, "o-flaky": 25, "o-passed": 50}
    assert "50 passed, 25 failed, 25 flaky, 0 skipped" in svg


def test_line_chart_scales_from_zero_to_the_largest_value() -> None:
    points = [charts.Point(value=v, label=str(v), href=f"/runs/{v}") for v in (0, 50, 100)]
    svg = str(charts.line_chart(points, label="durations", height=108))
    ys = _floats(svg, "cy")
    assert ys == [104, 54, 4]
    assert [a.attrs["href"] for a in parse(svg).all("a")] == ["/runs/0", "/runs/50", "/runs/100"]


def test_rate_bar_clamps_to_the_unit_interval() -> None:
    assert _floats(str(charts.rate_bar(1.7, width=80)), "width") == [80, 80]
    assert _floats(str(charts.rate_bar(-1, width=80)), "width")[-1] == 0
