"""The managers' charts (services/portal/web/charts.py), drawn by pygal: a valid standalone SVG with no script and
no style attribute, its one style sheet allowed by the hash in its own policy; columns in proportion to their
values on round ticks, rate bars in proportion to their rates with the rate in their label; the text
alternative naming the figures; a version that changes with the figures and only with them."""
import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest

from services.portal.web.charts import (
    arrivals_chart,
    columns,
    fill_rate_chart,
    nice_step,
    placement_rate_chart,
    rates,
)

SVG = "{http://www.w3.org/2000/svg}"
NBSP = "\u00a0"


def drawn(chart):
    drawing = chart.svg()
    return ET.fromstring(drawing.body.encode()), drawing


def group(root, css_class):
    return next(g for g in root.iter(f"{SVG}g") if g.get("class", "").startswith(css_class))


def texts(element):
    return [t.text for t in element.iter(f"{SVG}text")]


def bars(root):
    return list(group(root, "bars").iter(f"{SVG}rect"))


def top_to_bottom(elements):
    return sorted(elements, key=lambda e: float(e.get("y")))


@pytest.mark.parametrize(("maximum", "step"), [(0, 1), (4, 1), (7, 2), (23, 5), (100, 20), (340, 100),
                                               (1234, 500)])
def test_axis_steps_are_round_and_few(maximum, step):
    assert nice_step(maximum) == step
    assert maximum / step <= 5


def test_a_chart_is_a_standalone_svg_image_without_script_its_style_sheet_allowed_by_hash():
    root, drawing = drawn(columns("Demandes", [("09 h 00", 10), ("09 h 01", 40)]))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Demandes — 09 h 00 : 10; 09 h 01 : 40."
    assert (root.get("width"), root.get("height")) == ("208", "240")  # its size, for the page's <img>
    elements = list(root.iter())
    assert not [e for e in elements if e.tag.endswith("script")]
    assert not [e for e in elements if e.get("style") is not None]  # a style attribute would need 'unsafe-hashes'
    (sheet,) = [e for e in elements if e.tag.endswith("style")]
    digest = base64.b64encode(hashlib.sha256(sheet.text.encode()).digest()).decode()
    assert drawing.policy == (f"default-src 'none'; style-src 'sha256-{digest}'; frame-ancestors 'none'; "
                              "base-uri 'none'")
    assert "<script" not in drawing.body and "unsafe" not in drawing.policy


def test_columns_stand_in_proportion_to_their_values_on_round_ticks_with_their_values_written():
    root, _ = drawn(columns("Demandes", [("09 h 00", 10), ("09 h 01", 40), ("09 h 02", 0)]))
    heights = [float(r.get("height")) for r in bars(root)]
    assert heights[1] == pytest.approx(4 * heights[0]) and heights[2] == 0
    assert texts(group(root, "axis y")) == ["0", "10", "20", "30", "40"]
    assert texts(group(root, "axis x")) == ["09 h 00", "09 h 01", "09 h 02"]
    assert texts(group(root, "plot text-overlay")) == ["10", "40", "0"]


def test_a_chart_of_small_counts_has_whole_ticks_only_and_thousands_are_written_the_french_way():
    root, _ = drawn(columns("Demandes", [("17 h 06", 1), ("17 h 07", 0)]))
    assert texts(group(root, "axis y")) == ["0", "1"]
    root, _ = drawn(columns("Demandes", [("09 h 00", 1234)]))
    assert "1\u202f234" in texts(group(root, "plot text-overlay"))


def test_a_few_minutes_make_a_narrow_image_and_many_the_full_width():
    assert columns("Demandes", [("09 h 00", 3)]).width == 96 + 56
    assert columns("Demandes", [(f"m{n}", n) for n in range(60)]).width == 640


def test_rate_bars_are_in_proportion_to_their_rates_from_the_top_with_the_rate_in_their_label():
    root, _ = drawn(rates("Remplissage", [("Escalade", 0.5), ("Tennis", 1.25), ("Judo", 0)]))
    # Read from the top in the order given (pygal draws its first item at the bottom: they are given reversed).
    widths = [float(r.get("width", 0)) for r in top_to_bottom(bars(root))]  # pygal leaves out a zero width
    assert widths[1] == pytest.approx(2.5 * widths[0]) and widths[2] == 0
    assert [t.text for t in top_to_bottom(group(root, "axis y").iter(f"{SVG}text"))] == [
        f"Escalade : 50{NBSP}%", f"Tennis : 125{NBSP}%", f"Judo : 0{NBSP}%"]
    # The scale goes on to 125 % for the rate above 100 % (drawn as it is, not clamped).
    assert texts(group(root, "axis x")) == [f"{n}{NBSP}%" for n in (0, 25, 50, 75, 100, 125)]


def test_many_items_are_named_up_to_eight_in_the_text_alternative():
    chart = columns("Demandes", [(f"m{n}", n) for n in range(60)])
    assert chart.summary.startswith("Demandes — m0 : 0; m1 : 1;")
    assert chart.summary.endswith("; m7 : 7; et 52 autres (voir le tableau).")


def test_the_api_figures_become_charts_in_paris_time_with_offer_titles_and_levels():
    arrivals = arrivals_chart([{"minute": "2026-03-02T08:01:00+00:00", "received": 3}])
    assert arrivals.summary == "Demandes reçues par minute — 09 h 01 : 3."
    offer = "c3d9a8e2-1f7b-4e55-b0a4-6f1e2d3c4b5a"
    fill = fill_rate_chart([{"offer_id": offer, "fill_rate": 0.75}, {"offer_id": "inconnue", "fill_rate": None}],
                           {offer: "Escalade — initiation"})
    assert fill.summary == f"Taux de remplissage par activité — Escalade — initiation : 75{NBSP}%; inconnue : 0{NBSP}%."
    tiers = placement_rate_chart([{"tier": 1, "placement_rate": 1.0}, {"tier": 2, "placement_rate": 0.333}])
    assert tiers.summary == f"Taux de placement par niveau de priorité — Niveau 1 : 100{NBSP}%; Niveau 2 : 33{NBSP}%."
    root, _ = drawn(tiers)
    assert [t.text for t in top_to_bottom(group(root, "axis y").iter(f"{SVG}text"))] == [
        f"Niveau 1 : 100{NBSP}%", f"Niveau 2 : 33{NBSP}%"]


def test_nothing_to_draw_says_so():
    chart = rates("Remplissage", [])
    assert chart.summary == "Remplissage : aucune donnée."
    root, _ = drawn(chart)
    assert "Aucune donnée" in texts(root)


def test_the_version_follows_the_figures_and_only_them():
    per_minute = [{"minute": "2026-03-02T08:01:00+00:00", "received": 3}]
    assert arrivals_chart(per_minute).version == arrivals_chart(list(per_minute)).version
    assert arrivals_chart(per_minute).version != arrivals_chart([{**per_minute[0], "received": 4}]).version
    assert (placement_rate_chart([{"tier": 1, "placement_rate": 0.5}]).version
            != fill_rate_chart([{"offer_id": "Niveau 1", "fill_rate": 0.5}], {}).version)
