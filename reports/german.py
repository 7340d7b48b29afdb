"""Numbers, dates and labels as German readers and German Excel expect them."""

from __future__ import annotations

from datetime import date

from fleet.modes import MODE_LABELS_DE

#: Labels of modes the factor file knows beyond the planner's.
_EXTRA_MODE_LABELS = {"car_sharing": "Carsharing", "bus": "Linienbus", "train": "Nahverkehrszug"}

STATUS_DE = {"planned": "geplant (unbestätigt)", "confirmed": "bestätigt", "adhoc": "ad hoc"}

KIND_DE = {"e_car": "E-Auto", "e_bike": "E-Bike", "cargo_bike": "Lastenrad", "car": "Dienstwagen"}


def mode_de(mode: str) -> str:
    return MODE_LABELS_DE.get(mode) or _EXTRA_MODE_LABELS.get(mode) or mode


def number(value: float | None, decimals: int = 1, *, thousands: bool = False) -> str:
    """``1234,5`` (decimal comma); with ``thousands`` ``1.234,5`` (for print, not CSV,
    so that Excel reads the CSV's numbers as numbers). ``None`` is an empty string."""
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}" if thousands else f"{value:.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def percent(share: float | None, decimals: int = 1) -> str:
    """A share 0..1 as ``45,2 %``; ``–`` when there is none."""
    return "–" if share is None else f"{number(share * 100, decimals)} %"


def day(value: date) -> str:
    return f"{value:%d.%m.%Y}"


def yes_no(value: bool) -> str:
    return "ja" if value else "nein"
