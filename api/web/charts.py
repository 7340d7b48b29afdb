"""Charts drawn on the server as SVG: timelines, bar charts and tour maps.

No chart library and no script: the SVG is part of the page, scales with it, prints,
and reads without JavaScript. Every mark has a ``<title>`` (a screen reader and a
mouse pointer both get the exact figure), and every chart sits next to a table with
the same numbers. Text is escaped here, since the SVG goes into the page as markup.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape

from markupsafe import Markup

#: Fill colours per mode, as in the stylesheet (white text on them passes WCAG AA).
MODE_COLOURS: dict[str, str] = {
    "e_car": "#1f5fa8",
    "car": "#6b4fa0",
    "private_car": "#a33a2b",
    "e_bike": "#1d7a3a",
    "cargo_bike": "#2f6b4f",
    "walk": "#7a5b00",
}
NEUTRAL = "#4a5360"
FONT = 'font-family="system-ui, sans-serif"'


def colour(mode: str | None) -> str:
    return MODE_COLOURS.get(mode or "", NEUTRAL)


def _svg(
    width: float, height: float, label: str, body: list[str], max_width: int | None = None
) -> Markup:
    # A chart of few marks would grow its text to headline size on a wide screen.
    style = f' style="max-width: {max_width}px"' if max_width else ""
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{escape(label)}" {FONT} font-size="12"{style}>'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


# --------------------------------------------------------------------------- timeline


@dataclass(frozen=True, slots=True)
class Bar:
    """Something on a timeline row: a tour (travel, drawn light) or a visit (solid)."""

    day: int
    start: float  # minutes since local midnight
    end: float
    kind: str  # "tour", "visit" or "block"
    mode: str | None
    title: str
    text: str = ""


@dataclass
class Row:
    label: str
    bars: list[Bar] = field(default_factory=list)


def timeline(
    rows: Sequence[Row],
    days: Sequence[str],
    *,
    first_hour: int,
    last_hour: int,
    label: str,
) -> Markup:
    """One row per caseworker (or vehicle), one column per day, hours across each."""
    left, top, row_height, day_width = 150.0, 34.0, 34.0, 230.0
    span = max(1, last_hour - first_hour) * 60
    width = left + day_width * len(days) + 10
    height = top + row_height * max(1, len(rows)) + 8
    body: list[str] = []

    def x(day: int, minute: float) -> float:
        clamped = min(max(minute - first_hour * 60, 0), span)
        return left + day * day_width + clamped / span * (day_width - 8)

    for index, name in enumerate(days):
        x0 = left + index * day_width
        body.append(
            f'<rect x="{x0:.1f}" y="0" width="{day_width - 8:.1f}" height="{height:.1f}" '
            f'fill="{"#f3f5f8" if index % 2 == 0 else "#ffffff"}"/>'
            f'<text x="{x0 + 4:.1f}" y="14" font-weight="600">{escape(name)}</text>'
        )
        for hour in range(first_hour, last_hour, 2):
            hx = x(index, hour * 60)
            body.append(
                f'<line x1="{hx:.1f}" y1="20" x2="{hx:.1f}" y2="{height:.1f}" stroke="#c9ced6"/>'
                f'<text x="{hx + 2:.1f}" y="30" font-size="10" fill="#4a5360">{hour}</text>'
            )
    for row_index, row in enumerate(rows):
        y = top + row_index * row_height
        body.append(
            f'<line x1="0" y1="{y:.1f}" x2="{width:.1f}" y2="{y:.1f}" stroke="#c9ced6"/>'
            f'<text x="4" y="{y + 21:.1f}">{escape(row.label[:22])}</text>'
        )
        for bar in sorted(row.bars, key=lambda bar: bar.kind != "tour"):
            x0, x1 = x(bar.day, bar.start), x(bar.day, bar.end)
            w = max(x1 - x0, 2.0)
            fill = colour(bar.mode)
            title = f"<title>{escape(bar.title)}</title>"
            if bar.kind == "tour":
                body.append(
                    f'<rect x="{x0:.1f}" y="{y + 9:.1f}" width="{w:.1f}" height="16" '
                    f'fill="#ffffff" stroke="{fill}" stroke-width="2" stroke-dasharray="4 2">'
                    f"{title}</rect>"
                )
            elif bar.kind == "block":
                body.append(
                    f'<rect x="{x0:.1f}" y="{y + 5:.1f}" width="{w:.1f}" height="24" '
                    f'fill="#4a5360" fill-opacity="0.35" stroke="#1b1f24">{title}</rect>'
                )
            else:
                body.append(
                    f'<rect x="{x0:.1f}" y="{y + 5:.1f}" width="{w:.1f}" height="24" rx="2" '
                    f'fill="{fill}">{title}</rect>'
                )
                if bar.text and w > 6.5 * len(bar.text) + 4:
                    body.append(
                        f'<text x="{x0 + 3:.1f}" y="{y + 21:.1f}" fill="#ffffff" font-size="10" '
                        f'aria-hidden="true">{escape(bar.text)}</text>'
                    )
    return _svg(width, height, label, body)


# ------------------------------------------------------------------------- bar charts


@dataclass(frozen=True, slots=True)
class Value:
    label: str
    value: float
    colour: str = "#0b5cad"


def bars(values: Sequence[Value], *, label: str, unit: str, show: Callable[[float], str]) -> Markup:
    """Horizontal bars, one per value, each labelled with its figure."""
    longest = max((len(value.label) for value in values), default=8)
    left, row, width = min(7.0 * longest + 12, 250.0), 28.0, 480.0
    most = max((value.value for value in values), default=0.0) or 1.0
    height = row * max(1, len(values)) + 8
    body: list[str] = []
    for index, value in enumerate(values):
        y = 4 + index * row
        w = (width - left - 90) * max(value.value, 0.0) / most
        body.append(
            f'<text x="4" y="{y + 17:.1f}">{escape(value.label[:34])}</text>'
            f'<rect x="{left:.1f}" y="{y + 4:.1f}" width="{max(w, 1):.1f}" height="18" '
            f'fill="{value.colour}"><title>{escape(value.label)}: {escape(show(value.value))} '
            f"{escape(unit)}</title></rect>"
            f'<text x="{left + w + 6:.1f}" y="{y + 17:.1f}">{escape(show(value.value))} '
            f"{escape(unit)}</text>"
        )
    return _svg(width, height, label, body, max_width=640)


# ------------------------------------------------------------------------------- maps


@dataclass(frozen=True, slots=True)
class MapPoint:
    lat: float
    lon: float
    label: str
    kind: str  # "site" or "household"


@dataclass(frozen=True, slots=True)
class MapLine:
    points: tuple[tuple[float, float], ...]  # (lat, lon)
    mode: str | None
    title: str


def _mercator(lat: float, lon: float, zoom: float) -> tuple[float, float]:
    """Web Mercator pixel coordinates at ``zoom`` (as OpenStreetMap's tiles)."""
    scale = 256 * 2**zoom
    x = (lon + 180) / 360 * scale
    sin = math.sin(math.radians(max(min(lat, 85.0), -85.0)))
    y = (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * scale
    return x, y


def tour_map(
    *,
    points: Sequence[MapPoint],
    lines: Sequence[MapLine],
    areas: Sequence[dict[str, object]],
    label: str,
    tile_url: str | None = None,
    width: int = 760,
    height: int = 520,
) -> Markup:
    """Tours over the orientation areas (and OSM tiles when a tile URL is configured)."""
    located = [(p.lat, p.lon) for p in points] + [pt for line in lines for pt in line.points]
    if not located:
        located = [(51.9, 8.0)]
    south, north = min(p[0] for p in located), max(p[0] for p in located)
    west, east = min(p[1] for p in located), max(p[1] for p in located)
    # The largest whole zoom at which the points fit, then a little margin.
    zoom = 16
    while zoom > 3:
        x0, y0 = _mercator(north, west, zoom)
        x1, y1 = _mercator(south, east, zoom)
        if x1 - x0 <= width * 0.86 and y1 - y0 <= height * 0.86:
            break
        zoom -= 1
    cx, cy = _mercator((north + south) / 2, (east + west) / 2, zoom)
    ox, oy = cx - width / 2, cy - height / 2

    def at(lat: float, lon: float) -> tuple[float, float]:
        x, y = _mercator(lat, lon, zoom)
        return x - ox, y - oy

    body: list[str] = [f'<rect width="{width}" height="{height}" fill="#eef2ea"/>']
    if tile_url:
        tiles = 2**zoom
        for tx in range(int(ox // 256), int((ox + width) // 256) + 1):
            for ty in range(int(oy // 256), int((oy + height) // 256) + 1):
                if 0 <= ty < tiles:
                    href = (
                        tile_url.replace("{z}", str(zoom))
                        .replace("{x}", str(tx % tiles))
                        .replace("{y}", str(ty))
                    )
                    body.append(
                        f'<image href="{escape(href)}" x="{tx * 256 - ox:.1f}" '
                        f'y="{ty * 256 - oy:.1f}" width="256" height="256" opacity="0.7"/>'
                    )
    for area in areas:
        geometry = area.get("geometry")
        properties = area.get("properties")
        if not isinstance(geometry, dict) or not isinstance(properties, dict):
            continue
        ring = geometry["coordinates"][0]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(lat, lon) for lon, lat in ring))
        body.append(
            f'<polygon points="{path}" fill="#ffffff" fill-opacity="{0 if tile_url else 0.55}" '
            f'stroke="#8a94a3" stroke-width="1"><title>{escape(str(properties["name"]))}'
            "</title></polygon>"
        )
        centre_lon, centre_lat = properties["centre"]
        label_x, label_y = at(float(centre_lat), float(centre_lon))
        if -50 < label_x < width + 50 and -20 < label_y < height + 20:
            body.append(
                f'<text x="{label_x:.1f}" y="{label_y:.1f}" font-size="11" fill="#4a5360" '
                f'text-anchor="middle">{escape(str(properties["name"]))}</text>'
            )
    for line in lines:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(lat, lon) for lat, lon in line.points))
        body.append(
            f'<polyline points="{path}" fill="none" stroke="{colour(line.mode)}" '
            f'stroke-width="3" stroke-linejoin="round" stroke-opacity="0.9">'
            f"<title>{escape(line.title)}</title></polyline>"
        )
    for point in points:
        x, y = at(point.lat, point.lon)
        if point.kind == "site":
            body.append(
                f'<rect x="{x - 7:.1f}" y="{y - 7:.1f}" width="14" height="14" fill="#1b1f24">'
                f"<title>{escape(point.label)}</title></rect>"
                f'<text x="{x + 10:.1f}" y="{y + 4:.1f}" font-weight="700">'
                f"{escape(point.label)}</text>"
            )
        else:
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="#ffffff" stroke="#1b1f24" '
                f'stroke-width="1.5"><title>{escape(point.label)}</title></circle>'
            )
    body.append(
        f'<text x="{width - 6}" y="{height - 6}" font-size="10" text-anchor="end" '
        f'fill="#4a5360">{"© OpenStreetMap" if tile_url else ""}</text>'
    )
    return _svg(width, height, label, body)


def week_days(start: date, end: date) -> list[date]:
    return [date.fromordinal(day) for day in range(start.toordinal(), end.toordinal() + 1)]
