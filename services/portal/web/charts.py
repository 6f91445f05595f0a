"""The managers' charts, drawn by pygal on the server, each served as its own SVG image: arrivals per minute
(columns), fill rate per offer and placement rate per priority level (horizontal bars of a rate).

A chart is an `<img src=… alt=…>` in the campaign's page (`templates/managers/_charts.html`): its `alt` is the
chart's `summary` (the figures in words) and the table beside it gives every figure (RGAA criteria 1.1, 1.3 and
1.8: a complex image has a detailed description next to it). The image is an answer of its own, under its own
Content-Security-Policy: no script at all (pygal's scripts are left out), and only the style sheet pygal writes
inside the SVG, allowed by its hash. The page's policy stays as it was (`web/headers.py`).

The images carry no personal data (counts, rates, offer titles): they are read by the manager who may read the
page, through the same API calls, and kept by the browser (`private`). Their address carries the version of
their figures (`?v=`), so the live counters' fragment, refreshed every 5 s, fetches an image only when its
figures changed.
"""
from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pygal
from flask import Blueprint, Response, abort, request
from pygal.style import Style

from services.portal.web.managers import allocation_overview, counters, manager_only, read_campaign

blp = Blueprint("charts", __name__, url_prefix="/gestion/campagnes/<uuid:campaign_id>/graphiques")

PARIS = ZoneInfo("Europe/Paris")
WIDTH = 640
# A text alternative names each item up to this many; beyond, it points to the table.
MAX_SPOKEN_ITEMS = 8
# An image whose address names the figures it draws never changes: the browser keeps it this long.
VERSIONED_MAX_AGE = 24 * 3600
# The room a column takes, up to the full width (a chart of one minute is a narrow image, not one wide column).
COLUMN_SLOT = 56

# Columns and bars #0b4f9c on white (8:1), guides #5a6b80 (5:1), text #1b1b1b; the page's font.
STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#1b1b1b", foreground_strong="#1b1b1b",
    foreground_subtle="#5a6b80", guide_stroke_color="#5a6b80", major_guide_stroke_color="#5a6b80", colors=("#0b4f9c",), value_colors=("#1b1b1b",), opacity="1", opacity_hover="1",
    transition="0ms", font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
    label_font_size=12, major_label_font_size=12, value_font_size=12, value_label_font_size=12)


@dataclass(frozen=True)
class Chart:
    """What a chart shows: its kind (`columns` or `rates`), its title, its points (label, value), and the text
    alternative that says them. `svg()` draws it."""
    kind: str
    title: str
    points: tuple[tuple[str, float], ...]
    summary: str

    @property
    def version(self) -> str:
        """A short digest of what the image draws: its address changes when, and only when, its figures do."""
        drawn = repr((self.kind, self.title, self.points)).encode()
        return hashlib.sha256(drawn).hexdigest()[:16]

    @property
    def height(self) -> int:
        return 240 if self.kind == "columns" else 60 + 40 * max(1, len(self.points))

    @property
    def width(self) -> int:
        """Rates use the full width; a few minutes of counts do not make columns as wide as the chart."""
        return WIDTH if self.kind == "rates" else min(WIDTH, 96 + COLUMN_SLOT * len(self.points))

    def svg(self) -> Drawing:
        drawing = Drawing(self.summary)
        drawn = column_chart(self) if self.kind == "columns" else rate_chart(self)
        drawn.add_xml_filter(drawing.standalone)
        return drawing.done(drawn.render(is_unicode=True))


class Drawing:
    """pygal's SVG made a standalone image: its script and its hidden tooltip (both there for pygal's script in
    a browser) left out, a `<title>` added, and the hash of the one style sheet kept for the answer's policy."""

    def __init__(self, summary: str) -> None:
        self.summary = summary
        self.body = ""
        self.style_hashes: list[str] = []

    def standalone(self, root):
        for parent in list(root.iter()):
            for child in list(parent):
                if local(child.tag) == "script" or "tooltip-overlay" in (child.get("class") or "").split():
                    parent.remove(child)
                elif local(child.tag) == "style":
                    digest = hashlib.sha256((child.text or "").encode()).digest()
                    self.style_hashes.append(f"'sha256-{base64.b64encode(digest).decode()}'")
        root.set("role", "img")
        title = root.makeelement("title", {})  # pygal's etree or lxml, whichever it uses
        title.text = self.summary
        root.insert(0, title)
        return root

    def done(self, body: str) -> Drawing:
        self.body = body
        return self

    @property
    def policy(self) -> str:
        """The image's Content-Security-Policy: nothing but its own style sheet."""
        styles = " ".join(self.style_hashes) or "'none'"
        return f"default-src 'none'; style-src {styles}; frame-ancestors 'none'; base-uri 'none'"


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


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


def common(chart: Chart) -> dict:
    """pygal's options every chart shares: no script (`js=()`), no legend (one series), the values written,
    the labels never truncated, CSS not prefixed (the SVG is a document of its own)."""
    return {"js": (), "style": STYLE, "no_prefix": True, "width": chart.width, "height": chart.height,
            "explicit_size": True, "show_legend": False, "print_values": True, "truncate_label": -1,
            "margin": 8, "margin_top": 16, "margin_right": 24, "spacing": 8, "no_data_text": "Aucune donnée"}


def column_chart(chart: Chart) -> pygal.Bar:
    """Columns on a y axis of round ticks from 0; counts get whole ticks only."""
    values = [value for _, value in chart.points]
    step = nice_step(max(values, default=0))
    if all(float(value).is_integer() for value in values):
        step = max(step, 1)  # counts: no tick between 0 and 1 (it would read "0, 0, 0, 1, 1, 1")
    ceiling = step * max(1, math.ceil(max(values, default=0) / step))
    drawn = pygal.Bar(**common(chart), value_formatter=french_number, print_values_position="top",
                      y_labels=[tick * step for tick in range(int(round(ceiling / step)) + 1)],
                      range=(0, ceiling), show_minor_x_labels=len(values) <= 12, x_labels_major_every=6)
    drawn.x_labels = [label for label, _ in chart.points]
    drawn.add(chart.title, values)
    return drawn


def rate_chart(chart: Chart) -> pygal.HorizontalBar:
    """A bar per item on a 0–100 % scale (further when a rate is above 100 %, drawn as it is), its rate
    written in its label (written on the bar, it would cross it). pygal stacks the first item at the bottom:
    given in reverse, they read from the top in the table's order."""
    top = max([100, *(math.ceil(value * 100 / 25) * 25 for _, value in chart.points)])
    drawn = pygal.HorizontalBar(**{**common(chart), "print_values": False}, range=(0, top),
                                value_formatter=lambda v: french_percent(v / 100),
                                y_labels=list(range(0, top + 1, 25)))
    drawn.x_labels = [f"{label} : {french_percent(value)}" for label, value in reversed(chart.points)]
    drawn.add(chart.title, [round(value * 100, 1) for _, value in reversed(chart.points)])
    return drawn


def paris_minute(minute: str) -> str:
    return datetime.fromisoformat(minute.replace("Z", "+00:00")).astimezone(PARIS).strftime("%H h %M")


def columns(title: str, points: Sequence[tuple[str, float]]) -> Chart:
    return Chart("columns", title, tuple(points), spoken(title, [(label, french_number(v)) for label, v in points]))


def rates(title: str, points: Sequence[tuple[str, float]]) -> Chart:
    return Chart("rates", title, tuple(points), spoken(title, [(label, french_percent(v)) for label, v in points]))


@blp.app_template_global()
def arrivals_chart(per_minute: Sequence[dict]) -> Chart:
    """Registrations' counters (`per_minute`: minute, received) as columns, in Paris time."""
    return columns("Demandes reçues par minute", [(paris_minute(m["minute"]), m["received"]) for m in per_minute])


@blp.app_template_global()
def fill_rate_chart(offers: Sequence[dict], titles: dict[str, str]) -> Chart:
    """Allocation's statistics per offer (`fill_rate`, placed over capacity)."""
    return rates("Taux de remplissage par activité",
                 [(titles.get(o["offer_id"], o["offer_id"]), o["fill_rate"] or 0) for o in offers])


@blp.app_template_global()
def placement_rate_chart(tiers: Sequence[dict]) -> Chart:
    """Allocation's statistics per priority level (`placement_rate`, placed over applications)."""
    return rates("Taux de placement par niveau de priorité",
                 [(f"Niveau {t['tier']}", t["placement_rate"] or 0) for t in tiers])


# --- the images, each its own answer ---------------------------------------------------------------------

RUNS = {"resultats": "published", "simulation": "latest_dry_run"}


def image(chart: Chart) -> Response:
    """The chart as image/svg+xml under its own policy; kept by the browser for a day when the address names
    these very figures (`v`), else revalidated (its ETag is the figures' version)."""
    drawing = chart.svg()
    response = Response(drawing.body, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = drawing.policy
    response.set_etag(chart.version, weak=True)  # pygal's comment carries the day: same figures, same image
    if request.args.get("v") == chart.version:
        response.cache_control.max_age = VERSIONED_MAX_AGE
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    response.cache_control.private = True
    return response.make_conditional(request)


def statistics(campaign_id, run: str) -> dict:
    """The statistics of the run the page shows (the published results, or the latest dry run); 404 if none."""
    overview = allocation_overview(campaign_id) or {}
    found = (overview.get(RUNS[run]) or {}).get("statistics")
    if not found:
        abort(404)
    return found


@blp.get("/demandes-par-minute.svg")
@manager_only
def arrivals(campaign_id):
    campaign, _ = read_campaign(campaign_id)
    return image(arrivals_chart((counters(campaign) or {"per_minute": []})["per_minute"]))


@blp.get("/<any(resultats, simulation):run>/remplissage.svg")
@manager_only
def fill_rate(campaign_id, run):
    campaign, _ = read_campaign(campaign_id)
    return image(fill_rate_chart(statistics(campaign_id, run)["offers"],
                                 {o["id"]: o["title"] for o in campaign["offers"]}))


@blp.get("/<any(resultats, simulation):run>/placement.svg")
@manager_only
def placement_rate(campaign_id, run):
    return image(placement_rate_chart(statistics(campaign_id, run)["tiers"]))
