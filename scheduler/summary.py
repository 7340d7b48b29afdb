"""Per-caseworker and per-mode totals of a plan, for the CLI summary and reports."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from scheduler.format import Plan, Scenario
from scheduler.rules import emission_factors, travel_params


@dataclass
class SummaryRow:
    key: str
    visits: int = 0
    tours: int = 0
    km: float = 0.0
    co2e_kg: float = 0.0
    baseline_co2e_kg: float = 0.0

    @property
    def avoided_co2e_kg(self) -> float:
        return self.baseline_co2e_kg - self.co2e_kg


def summarise(scenario: Scenario, plan: Plan) -> tuple[list[SummaryRow], list[SummaryRow]]:
    """Rows per caseworker and per mode (baseline: the same legs by the baseline mode)."""
    travel = travel_params(scenario)
    factors = emission_factors(scenario)
    baseline = travel[scenario.baseline_mode]
    baseline_factor = factors[scenario.baseline_mode]
    by_caseworker: dict[str, SummaryRow] = {}
    by_mode: dict[str, SummaryRow] = {}
    for caseworker in scenario.caseworkers:
        by_caseworker[caseworker.id] = SummaryRow(caseworker.id)
    visits_per_tour: dict[str, int] = defaultdict(int)
    for appointment in plan.appointments:
        visits_per_tour[appointment.tour] += 1
    for tour in plan.tours:
        geodesic = tour.distance_km / travel[tour.mode].detour_factor
        tour_baseline = geodesic * baseline.detour_factor * baseline_factor / 1000
        for row in (
            by_caseworker.setdefault(tour.caseworker, SummaryRow(tour.caseworker)),
            by_mode.setdefault(tour.mode, SummaryRow(tour.mode)),
        ):
            row.visits += visits_per_tour[tour.id]
            row.tours += 1
            row.km += tour.distance_km
            row.co2e_kg += tour.co2e_kg
            row.baseline_co2e_kg += tour_baseline
    return list(by_caseworker.values()), sorted(by_mode.values(), key=lambda r: r.key)
