"""Emission factors from the versioned data file ``fleet/data/emission_factors.json``.

The planning format's default ``emission_factors_g_per_km`` come from here; a scenario
may override any of them.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from fleet.modes import MODES


@cache
def factor_table() -> dict[str, Any]:
    text = resources.files("fleet").joinpath("data/emission_factors.json").read_text("utf-8")
    table: dict[str, Any] = json.loads(text)
    return table


def default_mode_factors(year: int | None = None) -> dict[str, float]:
    """g CO2e per km for every mode, for ``year`` (default: the file's default year)."""
    table = factor_table()
    chosen = str(year if year is not None else table["default_year"])
    if chosen not in table["years"]:
        known = ", ".join(sorted(table["years"]))
        raise ValueError(f"no emission factors for {chosen}; known years: {known}")
    modes = table["years"][chosen]["mode_g_per_km"]
    return {mode: float(modes[mode]["value"]) for mode in MODES}
