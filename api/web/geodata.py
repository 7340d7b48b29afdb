"""The light base of the tour maps: orientation areas around the places of the region.

No tile server is needed (offline machines): the map draws these areas, the offices
and the tours. The areas are Voronoi cells around the town and village centres of the
programmes' regions (``scheduler.demo``'s geography), in a local flat projection,
clipped to the region's box: every point belongs to the area of the nearest centre.
They are *not* official municipality boundaries (the project ships none, and a map
that pretended otherwise would mislead); the map's legend says so.

``python -m api.web.geodata`` rewrites ``data/outlines.geojson``; a test checks that the
shipped file is what this module makes.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

from scheduler.demo import PROGRAMMES

OUTLINES = Path(__file__).resolve().parent / "data" / "outlines.geojson"
#: Margin around a region's places, degrees.
MARGIN = 0.12

Point = tuple[float, float]


def _clip(polygon: list[Point], inside: Point, other: Point) -> list[Point]:
    """The part of ``polygon`` nearer to ``inside`` than to ``other`` (Sutherland-Hodgman
    against the perpendicular bisector)."""
    mx, my = (inside[0] + other[0]) / 2, (inside[1] + other[1]) / 2
    nx, ny = other[0] - inside[0], other[1] - inside[1]

    def side(point: Point) -> float:
        return (point[0] - mx) * nx + (point[1] - my) * ny

    result: list[Point] = []
    for index, current in enumerate(polygon):
        previous = polygon[index - 1]
        current_in, previous_in = side(current) <= 0, side(previous) <= 0
        if current_in != previous_in:
            a, b = side(previous), side(current)
            t = a / (a - b)
            result.append(
                (
                    previous[0] + t * (current[0] - previous[0]),
                    previous[1] + t * (current[1] - previous[1]),
                )
            )
        if current_in:
            result.append(current)
    return result


def outlines() -> dict[str, Any]:
    """The GeoJSON FeatureCollection of every programme's orientation areas."""
    features: list[dict[str, Any]] = []
    for programme in PROGRAMMES.values():
        places = [(town.name, town.lat, town.lon) for town in programme.towns]
        places += [
            (village.name, village.lat, village.lon)
            for town in programme.towns
            for village in town.villages
        ]
        lat0 = sum(lat for _, lat, _ in places) / len(places)
        scale = math.cos(math.radians(lat0))
        # A flat projection (x = lon * cos(lat0)) so that the cells are fair in km.
        points = [(lon * scale, lat) for _, lat, lon in places]
        west = min(p[0] for p in points) - MARGIN * scale
        east = max(p[0] for p in points) + MARGIN * scale
        south = min(p[1] for p in points) - MARGIN
        north = max(p[1] for p in points) + MARGIN
        for index, (name, lat, lon) in enumerate(places):
            cell: list[Point] = [(west, south), (east, south), (east, north), (west, north)]
            for other_index, other in enumerate(points):
                if other_index != index and cell:
                    cell = _clip(cell, points[index], other)
            ring = [[round(x / scale, 5), round(y, 5)] for x, y in cell]
            ring.append(ring[0])
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "name": name,
                        "district": programme.district,
                        "centre": [lon, lat],
                    },
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    return {
        "type": "FeatureCollection",
        "properties": {
            "description": (
                "Orientation areas (Voronoi cells around town and village centres); "
                "not official boundaries"
            ),
            "generator": "python -m api.web.geodata",
        },
        "features": features,
    }


def text() -> str:
    return json.dumps(outlines(), ensure_ascii=False, indent=1) + "\n"


@functools.cache
def load() -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = json.loads(OUTLINES.read_text("utf-8"))["features"]
    return features


if __name__ == "__main__":
    OUTLINES.write_text(text(), "utf-8")
    print(f"wrote {OUTLINES}")
