"""The report's charts as PNG images.

Figures are made with matplotlib's object API (``Figure``), not ``pyplot``: no global
state, safe in the API's worker threads, and saved through the Agg canvas, so no
display is needed.
"""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from reports.german import number
from reports.schemas import SustainabilityReport

#: Low-emission modes in greens, the others in greys and a muted red.
_LOW = "#2e7d32"
_HIGH = "#9e9e9e"
_BASELINE = "#c62828"
_DPI = 200
#: Inches: 88 mm wide on the page, 3:2.
_SIZE = (4.4, 2.9)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # The same size for every chart (no tight bounding box), so two sit side by side.
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _axis_de(decimals: int) -> FuncFormatter:
    return FuncFormatter(lambda value, _position: number(value, decimals, thousands=True))


def _style(axes: Axes, title: str) -> None:
    """The report's chart style: a small title and labels, no box on top and right."""
    axes.set_title(title, fontsize=10)
    axes.tick_params(labelsize=8)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def km_by_mode(report: SustainabilityReport) -> bytes:
    """Horizontal bars: km per mode, low-emission modes green."""
    lines = report.by_mode
    figure = Figure(figsize=_SIZE)
    axes = figure.subplots()
    labels = [line.label for line in lines]
    values = [line.km for line in lines]
    colours = [_LOW if line.low_emission else _HIGH for line in lines]
    bars = axes.barh(labels, values, color=colours)
    axes.bar_label(bars, labels=[f"{number(v, 1, thousands=True)} km" for v in values], fontsize=8)
    axes.invert_yaxis()
    _style(axes, "Strecke nach Verkehrsmittel (km)")
    axes.xaxis.set_major_formatter(_axis_de(0))
    axes.margins(x=0.25)
    if not lines:
        axes.text(0.5, 0.5, "keine Fahrten", ha="center", va="center", transform=axes.transAxes)
    return _png(figure)


def co2e_by_scope(report: SustainabilityReport) -> bytes:
    """Bars: kg CO2e per GHG scope, and beside them the baseline and the avoided CO2e."""
    figure = Figure(figsize=_SIZE)
    axes = figure.subplots()
    short = {
        "scope1": "Scope 1",
        "scope2": "Scope 2",
        "scope3_cat3": "Scope 3.3",
        "scope3_cat6": "Scope 3.6",
    }
    labels = [short[line.scope] for line in report.by_scope] + ["Basis", "vermieden"]
    values = [line.co2e_kg for line in report.by_scope] + [
        report.totals.baseline_co2e_kg,
        report.totals.avoided_co2e_kg,
    ]
    colours = ["#546e7a"] * len(report.by_scope) + [_BASELINE, _LOW]
    bars = axes.bar(labels, values, color=colours)
    axes.bar_label(bars, labels=[number(v, 1, thousands=True) for v in values], fontsize=8)
    _style(axes, "CO2e nach Scope und vermiedene CO2e (kg)")
    axes.yaxis.set_major_formatter(_axis_de(0))
    axes.margins(y=0.2)
    return _png(figure)
