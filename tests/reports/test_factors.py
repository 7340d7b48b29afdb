"""The factor file: one source for the planner's defaults and the report, every figure
sourced, chosen per reporting year, a file of one's own validated with its path."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from report_month import Month
from sqlalchemy.orm import Session

from core.db import transaction
from core.paperless import PAPERLESS_KINDS
from fleet import trips as trip_log
from fleet.emissions import default_mode_factors, factor_file, factor_set, load_factor_file
from reports.periods import Period
from reports.sustainability import ReportOptions, sustainability_report
from scheduler.format import Scenario
from scheduler.rules import emission_factors

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = ROOT / "fleet" / "data" / "emission_factors.json"


def test_the_planner_defaults_come_from_the_file() -> None:
    assert default_mode_factors() == {
        "e_car": 58.0,  # 16 kWh/100 km x 363 g/kWh, whole grams
        "e_bike": 2.0,  # 0.6 kWh/100 km x 363 g/kWh
        "walk": 0.0,
        "car": 222.0,
        "private_car": 222.0,
    }
    # 2023: the grid was 386 g/kWh.
    assert default_mode_factors(2023)["e_car"] == round(16 * 3.86)
    scenario = Scenario.model_validate_json(
        (ROOT / "examples" / "ennigerloh-everswinkel.scenario.json").read_bytes()
    )
    assert scenario.emission_factors_g_per_km is None
    assert emission_factors(scenario) == default_mode_factors()


def test_every_figure_is_sourced() -> None:
    factors = factor_file()
    assert factors.default_set == "uba" and factors.baseline_mode == "private_car"
    for year, sets in factors.years.items():
        for key in sets:
            resolved = factor_set(year=int(year), source=key)
            for item in (
                *resolved.modes.values(),
                resolved.grid,
                resolved.paper,
                *resolved.consumption.values(),
                *resolved.paperless_pages.values(),
            ):
                assert item.source and item.publisher and item.year >= 2020
            assert set(resolved.paperless_pages) == set(PAPERLESS_KINDS)
    uba = factor_set(source="uba")
    # Seen quoted, not confirmed offline: flagged in the file and in every report.
    assert not uba.modes["train"].verified
    assert not uba.paper.verified
    assert uba.grid.verified and uba.grid.upstream_g_per_kwh is None
    # Tailpipe and upstream kept apart where the source allows.
    car = uba.modes["car"]
    assert (car.tailpipe_g_per_km, car.upstream_g_per_km, car.total_g_per_km) == (179, 43, 222)
    assert uba.modes["bus"].tailpipe_g_per_km is None  # UBA gives the total only


def test_the_newest_figures_up_to_the_reporting_year() -> None:
    assert factor_set(year=2026).year == 2024
    assert factor_set(year=2024).grid.direct_g_per_kwh == 363
    assert factor_set(year=2023).grid.direct_g_per_kwh == 386
    # 2023 inherits everything else from 2024's set.
    assert factor_set(year=2023).modes["car"] == factor_set(year=2024).modes["car"]
    with pytest.raises(ValueError, match="no 'uba' factors for 2022"):
        factor_set(year=2022)
    # Sets that exist only for 2024 are used for 2026 too.
    assert factor_set(year=2026, source="desnz").modes["car"].total_g_per_km == 164.5
    with pytest.raises(ValueError, match="no 'desnz' factors for 2023"):
        factor_set(year=2023, source="desnz")


def test_each_trip_uses_the_factors_of_its_year(session: Session, month: Month) -> None:
    ecar = month.vehicles["ecar-enn-1"]
    cw01 = month.caseworkers["cw01"]
    with transaction(session):
        for day in (date(2023, 12, 20), date(2024, 1, 10)):
            trip_log.log_adhoc(
                session, caseworker_id=cw01, day=day, mode="e_car", km=10.0, vehicle_id=ecar
            )
    report = sustainability_report(
        session=session,
        options=ReportOptions(period=Period(date(2023, 12, 1), date(2024, 1, 31))),
    )
    assert report.factors.reference_years == [2023, 2024]
    kwh = 10.0 * 17.0 / 100
    assert [line.co2e_kg for line in report.trips] == [
        round(kwh * 386 / 1000, 3),
        round(kwh * 363 / 1000, 3),
    ]
    assert report.totals.co2e_kg == round(kwh * (386 + 363) / 1000, 3)
    grids = {item.reference_year: item.value for item in report.factors.items if item.key == "grid"}
    assert grids == {2023: 386, 2024: 363}


def _write(tmp_path: Path, change: Any) -> Path:
    data = json.loads(PACKAGED.read_text("utf-8"))
    change(data)
    path = tmp_path / "factors.json"
    path.write_text(json.dumps(data), "utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["years"]["2024"]["uba"]["modes"]["car"].update(upstream_g_per_km=50),
            "years.2024.uba.modes.car: Value error, tailpipe + upstream = 229 g/km, but the "
            "total is 222 g/km",
        ),
        (
            lambda d: d["years"]["2024"]["uba"]["modes"]["car"].pop("source"),
            "years.2024.uba.modes.car.source: Field required",
        ),
        (
            lambda d: d["years"]["2024"]["uba"]["grid"].update(direct_g_per_kwh=-1),
            "years.2024.uba.grid.direct_g_per_kwh: Input should be greater than or equal to 0",
        ),
        (lambda d: d["modes"].pop("walk"), "the planner's modes walk are missing"),
        (lambda d: d.update(baseline_mode="rocket"), "baseline_mode: unknown mode 'rocket'"),
        (
            lambda d: d["years"]["2024"]["uba"]["paperless_pages"].pop("consent"),
            "factor set 2024/uba lacks paperless_pages.consent",
        ),
        (
            lambda d: d["years"]["2024"]["uba"].update(inherits="desnz"),
            "inherits from itself",
        ),
        (lambda d: d.update(colour="green"), "colour: Extra inputs are not permitted"),
    ],
)
def test_a_factor_file_of_ones_own_is_checked(tmp_path: Path, change: Any, message: str) -> None:
    path = _write(tmp_path, change)
    with pytest.raises(ValueError) as error:
        load_factor_file(path)
    assert message in str(error.value)
    assert str(error.value).startswith(str(path))


def test_a_valid_factor_file_of_ones_own(tmp_path: Path) -> None:
    def cheaper_paper(data: dict[str, Any]) -> None:
        data["years"]["2024"]["uba"]["paper"]["pages_per_sheet"] = 2

    own = load_factor_file(_write(tmp_path, cheaper_paper))
    assert factor_set(factors=own).paper.pages_per_sheet == 2
