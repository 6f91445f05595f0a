"""The managers' charts' geometry (services/portal/web/charts.py): round axis ticks, columns in proportion
to their values on the baseline, rate bars on a full track (clamped, written as they are), and text
alternatives naming the figures."""
import pytest

from services.portal.web.charts import (
    arrivals_chart,
    column_chart,
    fill_rate_chart,
    nice_step,
    placement_rate_chart,
    rate_chart,
)


@pytest.mark.parametrize(("maximum", "step"), [(0, 1), (4, 1), (7, 2), (23, 5), (100, 20), (340, 100),
                                               (1234, 500)])
def test_axis_steps_are_round_and_few(maximum, step):
    assert nice_step(maximum) == step
    assert maximum / step <= 5


def test_columns_stand_on_the_baseline_in_proportion_to_their_values():
    chart = column_chart("Demandes", [("09 h 00", 10), ("09 h 01", 40), ("09 h 02", 0)])
    baseline = chart.gridlines[0].y1
    heights = [column.height for column in chart.columns]
    assert heights[1] == pytest.approx(4 * heights[0]) and heights[2] == 0
    assert all(column.y + column.height == pytest.approx(baseline) for column in chart.columns)
    # Ticks 0, 10, 20, 30, 40: the tallest column reaches the top gridline.
    assert [t.text for t in chart.texts if t.anchor == "end"] == ["0", "10", "20", "30", "40"]
    assert chart.columns[1].y == pytest.approx(chart.gridlines[-1].y1)
    assert chart.summary == "Demandes — 09 h 00 : 10; 09 h 01 : 40; 09 h 02 : 0."
    assert all(0 <= column.x and column.x + column.width <= chart.width for column in chart.columns)


def test_a_few_minutes_do_not_make_columns_as_wide_as_the_chart():
    (column,) = column_chart("Demandes", [("09 h 00", 3)]).columns
    assert column.width == 48
    assert column.x + column.width / 2 == pytest.approx(48 + (640 - 48 - 8) / 2)  # centred in its slot


def test_many_columns_keep_a_few_axis_labels_and_no_value_labels():
    chart = column_chart("Demandes", [(f"m{n}", n) for n in range(60)])
    labels = [t.text for t in chart.texts if t.anchor == "middle"]
    assert labels == [f"m{n}" for n in range(0, 60, 8)]
    assert chart.summary.endswith("; et 52 autres (voir le tableau).")


def test_thousands_are_written_the_french_way():
    chart = column_chart("Demandes", [("09 h 00", 1234)])
    assert "1\u202f234" in [t.text for t in chart.texts]


def test_rate_bars_fill_their_track_in_proportion_and_a_rate_above_one_is_clamped_but_written():
    chart = rate_chart("Remplissage", [("Escalade", 0.5), ("Tennis", 1.25), ("Judo", 0)])
    track = chart.tracks[0].width
    assert [bar.width for bar in chart.bars] == [track / 2, track, 0]
    assert [t.text for t in chart.texts] == ["Escalade", "50\u00a0%", "Tennis", "125\u00a0%", "Judo", "0\u00a0%"]
    assert chart.height == 3 * 44
    assert chart.summary == "Remplissage — Escalade : 50\u00a0%; Tennis : 125\u00a0%; Judo : 0\u00a0%."


def test_the_api_figures_become_charts_in_paris_time_with_offer_titles_and_levels():
    arrivals = arrivals_chart([{"minute": "2026-03-02T08:01:00+00:00", "received": 3}])
    assert arrivals.summary == "Demandes reçues par minute — 09 h 01 : 3."
    offer = "c3d9a8e2-1f7b-4e55-b0a4-6f1e2d3c4b5a"
    fill = fill_rate_chart([{"offer_id": offer, "fill_rate": 0.75}, {"offer_id": "inconnue", "fill_rate": None}],
                           {offer: "Escalade — initiation"})
    assert fill.summary == "Taux de remplissage par activité — Escalade — initiation : 75\u00a0%; inconnue : 0\u00a0%."
    tiers = placement_rate_chart([{"tier": 1, "placement_rate": 1.0}, {"tier": 2, "placement_rate": 0.333}])
    assert tiers.summary == "Taux de placement par niveau de priorité — Niveau 1 : 100\u00a0%; Niveau 2 : 33\u00a0%."


def test_nothing_to_draw_says_so():
    assert rate_chart("Remplissage", []).summary == "Remplissage : aucune donnée."
    assert column_chart("Demandes", []).columns == ()


def test_a_chart_of_small_counts_has_whole_ticks_only():
    chart = column_chart("Demandes reçues par minute", [("17 h 06", 1), ("17 h 07", 0)])
    assert [text.text for text in chart.texts if text.anchor == "end"] == ["0", "1"]
