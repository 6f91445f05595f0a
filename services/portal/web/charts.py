"""The managers' charts, drawn by the server as inline SVG: arrivals per minute (columns), fill rate per offer
and placement rate per priority level (horizontal bars of a rate).

The geometry is plain Python (`ColumnChart`, `RateChart`: every rectangle, line and text in SVG user units);
`templates/managers/_charts.html` only writes it out. No script and no library in the browser: the charts are
read like the rest of the page, refreshed with it, and printed. Each chart is an image with a short text
alternative (`summary`, its `aria-label`), and the table beside it gives every figure (RGAA criteria 1.1, 1.3
and 1.8: a complex image has a detailed description next to it).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint

blp = Blueprint("charts", __name__)

PARIS = ZoneInfo("Europe/Paris")
WIDTH = 640
# Beyond this many columns, values are no longer written above each one (the table has them all).
MAX_VALUE_LABELS = 24
MAX_AXIS_LABELS = 8
# A few minutes of counts do not make columns as wide as the chart.
MAX_COLUMN_WIDTH = 48
# A text alternative names each item up to this many; beyond, it points to the table.
MAX_SPOKEN_ITEMS = 8


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class ColumnChart:
    """Columns over labelled slots, with a y axis of round ticks."""
    width: float
    height: float
    summary: str
    columns: tuple[Rect, ...]
    gridlines: tuple[Line, ...]
    texts: tuple[Text, ...]


@dataclass(frozen=True)
class RateChart:
    """One labelled horizontal bar per item, its length the rate (100 % = the full track)."""
    width: float
    height: float
    summary: str
    tracks: tuple[Rect, ...]
    bars: tuple[Rect, ...]
    texts: tuple[Text, ...]


def nice_step(maximum: float, most_ticks: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most `most_ticks` steps up to `maximum`."""
    if maximum <= 0:
        return 1
    rough = maximum / most_ticks
    power = 10 ** math.floor(math.log10(rough))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= rough)


def french_number(value: float) -> str:
    """12 345 with a narrow no-break space, as French writes thousands."""
    return f"{value:,.0f}".replace(",", "\u202f")


def french_percent(rate: float) -> str:
    return f"{round(rate * 100)}\u00a0%"


def spoken(title: str, items: Sequence[tuple[str, str]]) -> str:
    if not items:
        return f"{title} : aucune donnée."
    named = "; ".join(f"{label} : {value}" for label, value in items[:MAX_SPOKEN_ITEMS])
    more = f"; et {len(items) - MAX_SPOKEN_ITEMS} autres (voir le tableau)" if len(items) > MAX_SPOKEN_ITEMS else ""
    return f"{title} — {named}{more}."


def column_chart(title: str, points: Sequence[tuple[str, float]], *, height: float = 220) -> ColumnChart:
    """Columns for `points` (label, value), on a y axis from 0 to a round value at or above the largest."""
    left, right, top, bottom = 48, 8, 12, 36
    plot_width, plot_height = WIDTH - left - right, height - top - bottom
    step = nice_step(max((value for _, value in points), default=0))
    if all(float(value).is_integer() for _, value in points):
        step = max(step, 1)  # counts: no tick between 0 and 1 (it would read "0, 0, 0, 1, 1, 1")
    ceiling = step * max(1, math.ceil(max((value for _, value in points), default=0) / step))
    baseline = top + plot_height
    gridlines, texts = [], []
    for tick in range(int(round(ceiling / step)) + 1):
        y = baseline - tick * step / ceiling * plot_height
        gridlines.append(Line(left, y, WIDTH - right, y))
        texts.append(Text(left - 6, y + 4, french_number(tick * step), "end"))
    columns = []
    slot = plot_width / max(1, len(points))
    every = max(1, math.ceil(len(points) / MAX_AXIS_LABELS))
    for index, (label, value) in enumerate(points):
        column_height = value / ceiling * plot_height
        column_width = min(slot * 0.7, MAX_COLUMN_WIDTH)
        centre = left + (index + 0.5) * slot
        columns.append(Rect(centre - column_width / 2, baseline - column_height, column_width, column_height))
        if len(points) <= MAX_VALUE_LABELS:
            texts.append(Text(centre, baseline - column_height - 4, french_number(value), "middle"))
        if index % every == 0:
            texts.append(Text(centre, baseline + 18, label, "middle"))
    return ColumnChart(WIDTH, height, spoken(title, [(label, french_number(value)) for label, value in points]),
                       tuple(columns), tuple(gridlines), tuple(texts))


def rate_chart(title: str, rates: Sequence[tuple[str, float]]) -> RateChart:
    """A bar per (label, rate): the label above, the bar on a full-width track, the rate written after it. A
    rate above 1 fills the track and is written as it is."""
    row, bar_height, value_room = 44, 16, 64
    track_width = WIDTH - value_room
    tracks, bars, texts = [], [], []
    for index, (label, rate) in enumerate(rates):
        y = index * row
        texts.append(Text(0, y + 14, label))
        tracks.append(Rect(0, y + 20, track_width, bar_height))
        length = max(0.0, min(1.0, rate)) * track_width
        bars.append(Rect(0, y + 20, length, bar_height))
        texts.append(Text(track_width + 8, y + 33, french_percent(rate)))
    return RateChart(WIDTH, max(row, len(rates) * row), spoken(title, [(label, french_percent(rate))
                                                                      for label, rate in rates]),
                     tuple(tracks), tuple(bars), tuple(texts))


def paris_minute(minute: str) -> str:
    return datetime.fromisoformat(minute.replace("Z", "+00:00")).astimezone(PARIS).strftime("%H h %M")


@blp.app_template_global()
def arrivals_chart(per_minute: Sequence[dict]) -> ColumnChart:
    """Registrations' counters (`per_minute`: minute, received) as columns, in Paris time."""
    return column_chart("Demandes reçues par minute", [(paris_minute(m["minute"]), m["received"])
                                                        for m in per_minute])


@blp.app_template_global()
def fill_rate_chart(offers: Sequence[dict], titles: dict[str, str]) -> RateChart:
    """Allocation's statistics per offer (`fill_rate`, placed over capacity)."""
    return rate_chart("Taux de remplissage par activité",
                      [(titles.get(o["offer_id"], o["offer_id"]), o["fill_rate"] or 0) for o in offers])


@blp.app_template_global()
def placement_rate_chart(tiers: Sequence[dict]) -> RateChart:
    """Allocation's statistics per priority level (`placement_rate`, placed over applications)."""
    return rate_chart("Taux de placement par niveau de priorité",
                      [(f"Niveau {t['tier']}", t["placement_rate"] or 0) for t in tiers])
