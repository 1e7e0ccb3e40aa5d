"""SVG charts: well-formed, accessible, readable without colour, text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from web.charts import Bar, Series, bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_line_chart_is_valid_accessible_svg() -> None:
    svg = parse(line_chart(
        "trend", "Tiếp nhận & giải quyết", "Số phản ánh <theo ngày>",
        ["01/10", "02/10", "03/10"],
        [Series("Tiếp nhận", [3, 5, 2]), Series("Giải quyết", [1, 4, 6])],
    ))
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Tiếp nhận & giải quyết"  # type: ignore[union-attr]
    assert svg.find(f"{SVG}desc").text == "Số phản ánh <theo ngày>"  # type: ignore[union-attr]
    lines = svg.findall(f".//{SVG}polyline")
    assert len(lines) == 2
    # Told apart without colour: one solid, one dashed, and labelled at the end.
    assert lines[0].get("stroke-dasharray") is None and lines[1].get("stroke-dasharray")
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Tiếp nhận (2)" in texts and "Giải quyết (6)" in texts


def test_bar_chart_with_intervals_and_labels() -> None:
    svg = parse(bar_chart(
        "rank", "Xếp hạng", "Tỷ lệ hài lòng",
        [Bar("Phường <A>", 0.9, "90 %", 0.8, 0.95), Bar("Phường B", 0.5, "50 %")],
        max_value=1.0,
    ))
    assert svg.find(f".//{SVG}pattern") is not None  # hatched: prints in black and white
    assert len(svg.findall(f".//{SVG}path")) == 1  # one whisker: B has no interval
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Phường <A>" in texts and "90 %" in texts


@given(
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=0, max_size=40),
    st.text(max_size=30),
)
def test_any_series_gives_well_formed_svg(values: list[int], label: str) -> None:
    labels = [str(i) for i in range(len(values))]
    parse(line_chart("c", label, label, labels, [Series(label, values)]))
    parse(bar_chart("b", label, label, [Bar(label or "x", v) for v in values]))
