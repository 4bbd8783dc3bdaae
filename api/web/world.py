"""The world map the pages draw on: country outlines from the vendored TopoJSON (Natural
Earth via world-atlas, see maps/README.md) as one SVG in the plate carrée projection, whose
viewBox is longitude -180..180 by latitude (negated) -90..90, so that a point is drawn at
(longitude, -latitude) with no other arithmetic."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from api.web.templating import HERE

TOPOLOGY = HERE / "maps" / "countries-110m.json"
VIEWBOX = "-180 -90 360 180"
Point = tuple[float, float]


def _arcs(topology: dict[str, Any]) -> list[list[Point]]:
    """TopoJSON arcs are quantised and delta-encoded: undo both."""
    (scale_x, scale_y), (shift_x, shift_y) = (
        topology["transform"]["scale"],
        topology["transform"]["translate"],
    )
    decoded = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        decoded.append(points)
    return decoded


def _ring(arcs: list[list[Point]], indexes: list[int]) -> list[Point]:
    points: list[Point] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]  # ~i: arc i reversed
        points.extend(arc if not points else arc[1:])
    return points


def _path(rings: list[list[Point]]) -> str:
    """Relative moves at a tenth of a degree (about 11 km, finer than 1:110m data): short
    text, and points that round onto the previous one are left out. Each ring is closed, so
    it ends where it began, where the next one's first move starts from."""
    return "M0 0" + "".join(_relative(ring, start) for ring, start in _starts(rings))


def _starts(rings: list[list[Point]]) -> list[tuple[list[Point], tuple[int, int]]]:
    starts = []
    previous = (0, 0)
    for ring in rings:
        starts.append((ring, previous))
        previous = _tenths(ring[0])
    return starts


def _tenths(point: Point) -> tuple[int, int]:
    return round(point[0] * 10), round(-point[1] * 10)


def _relative(ring: list[Point], last: tuple[int, int]) -> str:
    steps: list[str] = []
    for point in ring:
        here = _tenths(point)
        if steps and here == last:
            continue
        steps.append(f"{here[0] - last[0]} {here[1] - last[1]}")
        last = here
    return "m" + " ".join(steps) + "z"


def _unwrapped(ring: list[Point]) -> list[list[Point]]:
    """A ring that crosses the antimeridian (Russia, Fiji) jumps 360 degrees in longitude:
    draw it continuous, and again a world to the side, so that each half shows."""
    points = [ring[0]]
    for x, y in ring[1:]:
        previous = points[-1][0]
        x += 360 * round((previous - x) / 360)
        points.append((x, y))
    shifts = {0.0}
    if max(x for x, _ in points) > 180:
        shifts.add(-360.0)
    if min(x for x, _ in points) < -180:
        shifts.add(360.0)
    return [[(x + shift, y) for x, y in points] for shift in sorted(shifts)]


@lru_cache(maxsize=1)
def outlines_svg() -> str:
    topology = json.loads(TOPOLOGY.read_text(encoding="utf-8"))
    arcs = _arcs(topology)
    rings = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        polygons = {"Polygon": [geometry.get("arcs")], "MultiPolygon": geometry.get("arcs")}
        for polygon in polygons.get(geometry["type"]) or []:
            for ring in polygon:
                rings.extend(_unwrapped(_ring(arcs, ring)))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{VIEWBOX}">'
        "<title>Country outlines: Natural Earth 1:110m (public domain) via world-atlas</title>"
        '<rect x="-180" y="-90" width="360" height="180" fill="#eef3f7"/>'
        '<path transform="scale(0.1)" fill="#e4e2d8" stroke="#8a8a80" stroke-width="2" '
        f'fill-rule="evenodd" d="{_path(rings)}"/></svg>'
    )
