"""The stylesheet's colours meet WCAG 2.1 AA contrast (4.5:1 for normal text) for every
pair the pages put text on, read from ``fieldwork.css`` and ``charts.py`` themselves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.web.charts import MODE_COLOURS, NEUTRAL

CSS = (Path(__file__).resolve().parents[2] / "api" / "web" / "static" / "fieldwork.css").read_text()
VARIABLES = dict(re.findall(r"--([a-z_-]+):\s*(#[0-9a-fA-F]{6})", CSS))


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


PAIRS = [
    ("ink", "paper"),
    ("ink", "wash"),
    ("muted", "paper"),
    ("muted", "wash"),
    ("accent", "paper"),
    ("accent", "wash"),
    ("accent-ink", "accent"),
    ("bad", "paper"),
    ("ok", "paper"),
    ("paper", "ink"),  # the header: white text on ink
    ("paper", "bad"),  # danger buttons
    ("paper", "ok"),  # badges
]


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_colours_meet_aa(text: str, background: str) -> None:
    assert contrast(VARIABLES[text], VARIABLES[background]) >= 4.5


@pytest.mark.parametrize("mode", [*MODE_COLOURS, "neutral"])
def test_white_labels_on_mode_colours_meet_aa(mode: str) -> None:
    colour = MODE_COLOURS.get(mode, NEUTRAL)
    assert contrast("#ffffff", colour) >= 4.5
    # the stylesheet's swatches use the same colours as the charts
    if mode in VARIABLES:
        assert VARIABLES[mode].lower() == colour.lower()
