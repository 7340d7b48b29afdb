"""Emission factors from the versioned data file ``fleet/data/emission_factors.json``.

The file holds, per reference year, one or more *source sets* of factors (``uba``, the
default, and others a report may select): g CO2e per km by mode with tailpipe and
upstream kept apart, the grid mix in g per kWh, consumption per vehicle kind, paper per
sheet and pages per paperless step. Every figure carries its source, publisher, year,
boundary and whether it was checked in the original document. A set may inherit from
another set of its year (``inherits``) or from itself in another year
(``inherits_year``) and override single entries, so a year or a set that changes one
figure states only that figure.

Two readers use it: the planner takes its default ``emission_factors_g_per_km`` from
``default_mode_factors`` (a scenario may override any of them), and the sustainability
report takes a whole ``FactorSet`` for its reporting year (``factor_set``). Electric
modes have no per-km entry: their CO2e is the energy they use times the grid mix, so a
new grid figure changes both readers at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.paperless import PAPERLESS_KINDS
from fleet.modes import MODES

#: How a mode's emissions fall under the GHG Protocol (Corporate Standard, Scope 3):
#: ``pool_fuel`` a pool vehicle's fuel (tailpipe scope 1, fuel supply scope 3 cat. 3);
#: ``pool_electricity`` a pool vehicle's electricity (scope 2); ``business_travel``
#: vehicles the organisation does not own (private cars, car-sharing, public transport:
#: scope 3 cat. 6); ``none`` nothing attributable (walking).
GhgClass = Literal["pool_fuel", "pool_electricity", "business_travel", "none"]

#: Boundaries the file uses: ``well_to_wheel`` fuel supply and combustion,
#: ``tank_to_wheel`` combustion only, ``direct_co2`` a power station's CO2 only,
#: ``cradle_to_gate`` a product up to the factory gate.
Boundary = Literal["well_to_wheel", "tank_to_wheel", "direct_co2", "cradle_to_gate", "none"]

#: Rounding tolerance when checking that tailpipe + upstream = total.
_SUM_TOLERANCE = 0.05


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(_Strict):
    source: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    year: int = Field(ge=1990, le=2100)
    #: False: seen quoted, not confirmed in the original document.
    verified: bool
    note: str | None = None


class ModeClass(_Strict):
    """What a mode is, independent of the year: its label, GHG class, energy."""

    label: str
    ghg: GhgClass
    #: Counts towards the share of low-emission km.
    low_emission: bool
    #: Electric modes: the vehicle kind whose consumption gives their energy.
    energy_kind: str | None = None


class ModeFactor(Provenance):
    """g CO2e per km of one mode. ``None`` parts are not included in or not split by
    the source; when both parts are given they add up to the total."""

    total_g_per_km: float = Field(ge=0)
    tailpipe_g_per_km: float | None = Field(default=None, ge=0)
    upstream_g_per_km: float | None = Field(default=None, ge=0)
    boundary: Boundary

    @model_validator(mode="after")
    def _parts_add_up(self) -> ModeFactor:
        parts = (self.tailpipe_g_per_km or 0.0) + (self.upstream_g_per_km or 0.0)
        split = self.tailpipe_g_per_km is not None or self.upstream_g_per_km is not None
        if split and abs(parts - self.total_g_per_km) > _SUM_TOLERANCE:
            raise ValueError(
                f"tailpipe + upstream = {parts:g} g/km, but the total is "
                f"{self.total_g_per_km:g} g/km"
            )
        return self


class GridFactor(Provenance):
    direct_g_per_kwh: float = Field(ge=0)
    upstream_g_per_kwh: float | None = Field(default=None, ge=0)
    boundary: Boundary


class Consumption(Provenance):
    #: kWh per 100 km, charging losses included.
    value: float = Field(gt=0)


class PaperFactor(Provenance):
    g_co2e_per_sheet: float = Field(ge=0)
    #: The sheet's mass, for kg of paper avoided.
    g_per_sheet: float = Field(gt=0)
    #: Printed pages per sheet: 1 single-sided, 2 duplex.
    pages_per_sheet: int = Field(ge=1, le=2)
    boundary: Boundary


class PaperlessPages(Provenance):
    #: Printed pages one paperless step of the kind saves.
    pages_per_event: float = Field(ge=0)


class SetEntry(_Strict):
    """One source set of one year as the file writes it (possibly partial)."""

    label: str | None = None
    inherits: str | None = None
    inherits_year: str | None = None
    modes: dict[str, ModeFactor] = Field(default_factory=dict)
    grid: GridFactor | None = None
    consumption_kwh_per_100km: dict[str, Consumption] = Field(default_factory=dict)
    paper: PaperFactor | None = None
    paperless_pages: dict[str, PaperlessPages] = Field(default_factory=dict)


class FactorFile(_Strict):
    format: Literal[2]
    version: str
    description: str
    default_set: str
    baseline_mode: str
    modes: dict[str, ModeClass]
    #: Reference year -> set key -> entry.
    years: dict[str, dict[str, SetEntry]]

    @model_validator(mode="after")
    def _known_names(self) -> FactorFile:
        missing = [mode for mode in MODES if mode not in self.modes]
        if missing:
            raise ValueError(f"modes: the planner's modes {', '.join(missing)} are missing")
        if self.baseline_mode not in self.modes:
            raise ValueError(f"baseline_mode: unknown mode {self.baseline_mode!r}")
        for year in self.years:
            if not year.isdigit():
                raise ValueError(f"years: {year!r} is not a year")
        return self


@dataclass(frozen=True, slots=True)
class FactorSet:
    """Every factor a report needs, resolved for one reference year and source set."""

    version: str
    year: int
    key: str
    label: str
    baseline_mode: str
    classes: dict[str, ModeClass]
    #: Per-km factors of the non-electric modes.
    modes: dict[str, ModeFactor]
    grid: GridFactor
    consumption: dict[str, Consumption]
    paper: PaperFactor
    paperless_pages: dict[str, PaperlessPages]

    def mode_g_per_km(self, mode: str) -> float:
        """g CO2e per km of a mode (electric modes: consumption x grid, direct)."""
        kind = self.classes[mode].energy_kind
        if kind is not None:
            return self.consumption[kind].value / 100.0 * self.grid_g_per_kwh
        return self.modes[mode].total_g_per_km

    @property
    def grid_g_per_kwh(self) -> float:
        """The grid factor with its upstream part where the source gives one."""
        return self.grid.direct_g_per_kwh + (self.grid.upstream_g_per_kwh or 0.0)


# ----------------------------------------------------------------------------- reading


def _validate(raw: object, origin: str) -> FactorFile:
    try:
        return FactorFile.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{origin}: {path or '$'}: {first['msg']}") from None


@cache
def factor_file() -> FactorFile:
    """The packaged factor file, validated."""
    text = resources.files("fleet").joinpath("data/emission_factors.json").read_text("utf-8")
    return _validate(json.loads(text), "fleet/data/emission_factors.json")


def factor_table() -> dict[str, Any]:
    """The packaged factor file as plain JSON data."""
    return factor_file().model_dump(mode="json")


def load_factor_file(path: Path) -> FactorFile:
    """A factor file of one's own (same layout as the packaged one), validated.

    Raises ``ValueError`` with the file and the first problem's path.
    """
    try:
        raw = json.loads(path.read_text("utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot read: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON: {error.msg} (line {error.lineno})") from None
    factors = _validate(raw, str(path))
    # Every set must resolve (inheritance, nothing missing) before a report relies on it.
    for year in factors.years:
        for key in factors.years[year]:
            try:
                factor_set(year=int(year), source=key, factors=factors)
            except ValueError as error:
                raise ValueError(f"{path}: {error}") from None
    return factors


def _resolve(factors: FactorFile, year: str, key: str, seen: tuple[str, ...]) -> SetEntry:
    here = f"{year}/{key}"
    if here in seen:
        raise ValueError(f"factor set {here} inherits from itself ({' -> '.join(seen)})")
    entry = factors.years.get(year, {}).get(key)
    if entry is None:
        raise ValueError(f"no factor set {key!r} for {year}")
    if entry.inherits is not None and entry.inherits_year is not None:
        raise ValueError(f"factor set {here}: inherits and inherits_year exclude each other")
    if entry.inherits is not None:
        base = _resolve(factors, year, entry.inherits, (*seen, here))
    elif entry.inherits_year is not None:
        base = _resolve(factors, entry.inherits_year, key, (*seen, here))
    else:
        return entry
    return SetEntry(
        label=entry.label or base.label,
        modes={**base.modes, **entry.modes},
        grid=entry.grid or base.grid,
        consumption_kwh_per_100km={
            **base.consumption_kwh_per_100km,
            **entry.consumption_kwh_per_100km,
        },
        paper=entry.paper or base.paper,
        paperless_pages={**base.paperless_pages, **entry.paperless_pages},
    )


def reference_year(*, year: int, source: str, factors: FactorFile) -> int:
    """The newest reference year <= ``year`` that has the source set ``source``.

    Factors are published a year or two late, so a 2026 report uses the newest figures
    there are; a year before every reference year is an error, not a guess.
    """
    candidates = sorted(int(known) for known, sets in factors.years.items() if source in sets)
    if not candidates:
        known_sets = sorted({key for sets in factors.years.values() for key in sets})
        raise ValueError(f"unknown factor set {source!r}; known: {', '.join(known_sets)}")
    usable = [known for known in candidates if known <= year]
    if not usable:
        raise ValueError(
            f"no {source!r} factors for {year} or earlier; the first reference year is "
            f"{candidates[0]}"
        )
    return usable[-1]


def factor_set(
    *, year: int | None = None, source: str | None = None, factors: FactorFile | None = None
) -> FactorSet:
    """The factors for reporting year ``year`` (default: the newest reference year)
    from the set ``source`` (default: the file's ``default_set``, UBA)."""
    factors = factors or factor_file()
    key = source or factors.default_set
    newest = max(int(known) for known in factors.years)
    chosen = reference_year(year=year if year is not None else newest, source=key, factors=factors)
    entry = _resolve(factors, str(chosen), key, ())
    where = f"factor set {chosen}/{key}"
    missing: list[str] = []
    for mode, mode_class in factors.modes.items():
        if mode_class.energy_kind is None and mode not in entry.modes:
            missing.append(f"modes.{mode}")
        if (
            mode_class.energy_kind is not None
            and mode_class.energy_kind not in entry.consumption_kwh_per_100km
        ):
            missing.append(f"consumption_kwh_per_100km.{mode_class.energy_kind}")
    missing += [
        f"paperless_pages.{kind}" for kind in PAPERLESS_KINDS if kind not in entry.paperless_pages
    ]
    if entry.grid is None:
        missing.append("grid")
    if entry.paper is None:
        missing.append("paper")
    if missing:
        raise ValueError(f"{where} lacks {', '.join(sorted(set(missing)))}")
    assert entry.grid is not None and entry.paper is not None
    return FactorSet(
        version=factors.version,
        year=chosen,
        key=key,
        label=entry.label or key,
        baseline_mode=factors.baseline_mode,
        classes=dict(factors.modes),
        modes={mode: factor for mode, factor in entry.modes.items() if mode in factors.modes},
        grid=entry.grid,
        consumption=dict(entry.consumption_kwh_per_100km),
        paper=entry.paper,
        paperless_pages=dict(entry.paperless_pages),
    )


def default_mode_factors(year: int | None = None) -> dict[str, float]:
    """g CO2e per km for every planner mode, for ``year`` (default: the newest figures).

    The planning format's defaults: whole grams, as its documentation lists them
    (electric modes: consumption x grid mix, e.g. 16 kWh/100 km x 363 g/kWh = 58 g/km).
    """
    factors = factor_set(year=year)
    return {mode: float(round(factors.mode_g_per_km(mode))) for mode in MODES}
