"""Scaling curve, time limit honoured, and re-planning after a change (issue 3).

Every run is ``fieldwork plan`` as a process (start-up included), judged by
``fieldwork check``; peak RSS is the planning process's own (``wait4``).

Scenarios: ``generate_scenario(households=H, seed=1, sites=S, caseworkers=C,
load=0.55, fleet=1.5)``, all modes, a shared fleet per office (``fleet=1.5``: an e-car
per 2.7 caseworkers, an e-bike per two, pool cars at some offices; the default pool, an
e-car per four and an e-bike per three, cannot serve a week this full at the morning
peak). ``load`` makes the visits fill about 55 % of the caseworkers' working time (after
absences), travel on top.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scheduler.bound import capacity_bound
from scheduler.demo import generate_scenario
from scheduler.format import Scenario, dump_document
from scheduler.problem import Context

FIELDWORK = Path(sys.executable).parent / "fieldwork"
ROOT = Path(__file__).resolve().parents[1]

#: Visits wanted -> (households, caseworkers, sites) of the generated week.
SIZES: dict[int, tuple[int, int, int]] = {
    30: (26, 2, 2),
    300: (260, 15, 2),
    1000: (860, 50, 2),
    3000: (2600, 150, 6),
}
LOAD = 0.55
FLEET = 1.5


@dataclass
class PlanRun:
    wall_s: float
    peak_rss_mb: float
    plan: dict[str, Any]
    check_ok: bool
    check_output: str

    @property
    def scheduled(self) -> int:
        return int(self.plan["kpis"]["scheduled"])

    @property
    def reasons(self) -> Counter[str]:
        return Counter(item["reason"] for item in self.plan["unassigned"])


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (kB, from /proc)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def plan_process(scenario: Path, output: Path, *args: str) -> PlanRun:
    """``fieldwork plan`` as a process; wall time; peak RSS of the planning process and
    its worker processes together (sampled every 0.1 s); ``fieldwork check``."""
    command = [str(FIELDWORK), "plan", str(scenario), "-o", str(output), "-q", *args]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(process.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, _usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if status != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed: {error}")
    check = subprocess.run(
        [str(FIELDWORK), "check", str(scenario), str(output)], capture_output=True, text=True
    )
    return PlanRun(
        wall_s=wall,
        # Sampled, not ``ru_maxrss``: a child's ru_maxrss starts from this (large)
        # runner's memory at fork, before exec.
        peak_rss_mb=peak[0] / 1024,
        plan=json.loads(output.read_text()),
        check_ok=check.returncode == 0,
        check_output=check.stdout.strip().splitlines()[-1] if check.stdout.strip() else "",
    )


def scaling_scenario(visits: int, fleet: float = FLEET) -> Scenario:
    households, caseworkers, sites = SIZES[visits]
    return generate_scenario(
        households=households,
        seed=1,
        sites=sites,
        caseworkers=caseworkers,
        load=LOAD,
        fleet=fleet,
    )


@dataclass(frozen=True)
class Shape:
    """What a week holds: counts, the share of working time its visits fill, and how
    many visits could be planned alone (the rest the planner reports at once)."""

    visits: int
    caseworkers: int
    sites: int
    vehicles: int
    load: float
    plannable: int
    #: At most this many visits fit together (``scheduler.bound``), and the
    #: caseworker-days whose daily cap or working time limits that bound.
    together: int
    capped_days: int
    timed_days: int

    @classmethod
    def of(cls, scenario: Scenario) -> Shape:
        context = Context(scenario)
        working = sum(
            end - start
            for caseworker in scenario.caseworkers
            for day in context.dates
            for start, end in context.working_pieces(caseworker, day)
        )
        minutes = sum(v.duration_minutes for v in scenario.visits)
        bound = capacity_bound(context)
        return cls(
            visits=len(scenario.visits),
            caseworkers=len(scenario.caseworkers),
            sites=len(scenario.sites),
            vehicles=len(scenario.vehicles),
            load=minutes / max(1, working),
            plannable=bound.plannable,
            together=bound.visits,
            capped_days=bound.capped_days,
            timed_days=bound.timed_days,
        )

    def name(self) -> str:
        return (
            f"{self.visits} visits, {self.caseworkers} caseworkers, {self.sites} sites, "
            f"{self.vehicles} vehicles, load {100 * self.load:.0f}%"
        )


def _write(scenario: Scenario, path: Path) -> Path:
    path.write_text(json.dumps(dump_document(scenario)))
    return path


def _reasons(run: PlanRun) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(run.reasons.items())) or "-"


def _km(run: PlanRun) -> float:
    return float(sum(run.plan["kpis"]["distance_km"].values()))


def scaling_section(workdir: Path, curve: list[tuple[int, float]], command: str) -> str:
    """The scaling curve (search stops once it stops improving) and the time-limit table
    (``--full-time``: the search runs to its limit, the worst case for honouring it)."""
    lines = [
        "## Scaling and time limits (issue 3)",
        "",
        f"Reproduce: `{command}`.",
        "",
        f"Generated weeks: `generate_scenario(households=H, seed=1, sites=S, "
        f"caseworkers=C, load={LOAD}, fleet={FLEET})`, all modes, a shared fleet per office "
        "(an e-car per 2.7 caseworkers, an e-bike per two, pool cars at some offices). "
        "`load`: the "
        "visits' minutes over the caseworkers' working minutes after absences (travel "
        "comes on top). plannable alone: visits that pass the planner's own check of each "
        "visit on its own (hours, absences, holidays, availability, reach, vehicles); the "
        "rest are unplannable by design (a household available only on Saturday, a farm "
        "beyond e-bike reach of a caseworker who cannot drive, ...). fit together: an "
        "upper bound on the visits any plan can make together (`scheduler/bound.py`, a "
        "linear programme over the visits' caseworker-days: one visit a household and "
        "date, daily visit caps, working time for each visit with its shortest way in; "
        "vehicles and windows within a day left out). `fieldwork plan` as "
        "a process; peak RSS of it and its worker processes together; load = the "
        "machine's 1/5/15-minute load average before the run (2 cores, shared with other "
        "work).",
        "",
        "| week | time limit s | wall s | planner s | peak RSS MB | planned | plannable "
        "alone | fit together (bound) | unplanned by reason | km | kg CO2e | fieldwork check "
        "| load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    shapes: dict[int, tuple[Shape, Path]] = {}
    for visits, _ in curve:
        if visits not in shapes:
            scenario = scaling_scenario(visits)
            shapes[visits] = (
                Shape.of(scenario),
                _write(scenario, workdir / f"scaling-{visits}.json"),
            )
    verdicts: list[str] = []
    for visits, limit in curve:
        shape, path = shapes[visits]
        load = load_average()
        run = plan_process(path, workdir / "plan.json", "--time-limit", f"{limit:g}")
        if visits == 3000:
            met = (
                run.wall_s <= 60
                and run.peak_rss_mb <= 2048
                and run.scheduled >= shape.plannable
                and run.check_ok
            )
            verdicts.append(
                f"- 3,000 visits: wall {run.wall_s:.1f} s (<= 60), peak RSS "
                f"{run.peak_rss_mb:.0f} MB (<= 2048), {run.scheduled} of {shape.plannable} "
                f"visits plannable alone planned ({shape.plannable - run.scheduled} left), "
                f"fieldwork check {'pass' if run.check_ok else 'FAIL'}: "
                f"**{'met' if met else 'not met'}**"
                + (
                    ""
                    if shape.together >= shape.plannable
                    else f"; no plan can reach it for this week: at most {shape.together} "
                    f"visits fit together ({shape.plannable - shape.together} of those "
                    f"plannable alone cannot), and the plan reaches "
                    f"{100 * run.scheduled / shape.together:.1f}% of that bound"
                )
            )
        lines.append(
            f"| {shape.name()} | {limit:g} | {run.wall_s:.2f} | {run.plan['solver']['wall_s']:.2f} "
            f"| {run.peak_rss_mb:.0f} | {run.scheduled}/{shape.visits} | {shape.plannable} | "
            f"{shape.together} | {_reasons(run)} | {_km(run):.1f} | "
            f"{run.plan['kpis']['co2e_kg']:.2f} | "
            f"{'pass' if run.check_ok else 'FAIL: ' + run.check_output} | {load} |"
        )
    largest = max(curve, key=lambda item: item[0])
    if largest[0] == 3000:
        # The same week with the generator's default pool: where the fleet, not the
        # planner, is the limit (more e-car and e-bike tours at 9:00 than vehicles).
        scenario = scaling_scenario(3000, fleet=1.0)
        shape = Shape.of(scenario)
        path = _write(scenario, workdir / "scaling-3000-fleet1.json")
        load = load_average()
        run = plan_process(path, workdir / "plan.json", "--time-limit", f"{largest[1]:g}")
        lines.append(
            f"| {shape.name()}, default pool (fleet=1) | {largest[1]:g} | {run.wall_s:.2f} | "
            f"{run.plan['solver']['wall_s']:.2f} | {run.peak_rss_mb:.0f} | "
            f"{run.scheduled}/{shape.visits} | {shape.plannable} | {shape.together} | "
            f"{_reasons(run)} | {_km(run):.1f} | {run.plan['kpis']['co2e_kg']:.2f} | "
            f"{'pass' if run.check_ok else 'FAIL: ' + run.check_output} | {load} |"
        )
    lines += [
        "",
        "Time limit honoured: the same weeks with `--full-time` (the search uses its whole "
        "limit instead of stopping once it stops improving); wall = the process, start-up "
        "and writing the plan included (`fieldwork plan` starts the limit's clock when the "
        "process starts, so imports count). Target (issue 3): within 10% of the limit.",
        "",
        "| week | time limit s | wall s | wall / limit | planner s | planned | load |",
        "|---|---|---|---|---|---|---|",
    ]
    ratios = []
    for visits, limit in curve:
        shape, path = shapes[visits]
        load = load_average()
        run = plan_process(path, workdir / "plan.json", "--time-limit", f"{limit:g}", "--full-time")
        ratios.append(run.wall_s / limit)
        lines.append(
            f"| {shape.name()} | {limit:g} | {run.wall_s:.2f} | {run.wall_s / limit:.2f} | "
            f"{run.plan['solver']['wall_s']:.2f} | {run.scheduled}/{shape.visits} | {load} |"
        )
    verdicts.append(
        f"- time limit: wall / limit at most {max(ratios):.2f} (<= 1.10): "
        f"**{'met' if max(ratios) <= 1.10 else 'not met'}**"
    )
    lines += [
        "",
        "Targets (issue 3):",
        "",
        *verdicts,
        "",
        "Where the 3,000-visit week falls short: the open visits are `capacity` (they fit "
        "alone, not all together). The bound shows that no planner can place all of "
        "them: continuity ties households to their caseworkers, and some caseworkers "
        "have more visits than their daily caps allow over the week "
        + (
            f"(at 3,000 visits the bound is limited by the caps of "
            f"{shapes[3000][0].capped_days} caseworker-days and the working time of "
            f"{shapes[3000][0].timed_days}). "
            if 3000 in shapes
            else ". "
        )
        + "Between the bound and the plan lie what the bound leaves out: vehicles at the "
        "offices' morning peaks, the families' hours within a day, the way back to the "
        "office (with twice the default pool, `fleet=3`, the planner placed 2,773 in a "
        "diagnostic run, so the fleet is a small part of it). Peak RSS sums the planning "
        "process and its two worker processes (pages they share count twice).",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------ re-planning


def ill_and_cancelled(document: dict[str, Any], plan: dict[str, Any]) -> tuple[str, str, str]:
    """The week after two changes: the caseworker with the most appointments on the
    horizon's Wednesday falls ill that day, and the household of one of another
    caseworker's appointments cancels (its visits leave the scenario). Changes
    ``document`` in place; returns (caseworker, day, household)."""
    wednesday = next(
        day for day in sorted({a["start"][:10] for a in plan["appointments"]}) if _weekday(day) == 2
    )
    busiest = Counter(
        a["caseworker"] for a in plan["appointments"] if a["start"].startswith(wednesday)
    ).most_common(1)[0][0]
    for caseworker in document["caseworkers"]:
        if caseworker["id"] == busiest:
            caseworker.setdefault("absences", []).append(
                {"start": wednesday, "end": wednesday, "reason": "krank"}
            )
    others = sorted(
        (a for a in plan["appointments"] if a["caseworker"] != busiest),
        key=lambda a: (a["start"], a["visit"]),
    )
    household = others[len(others) // 2]["household"]
    document["visits"] = [v for v in document["visits"] if v["household"] != household]
    return busiest, wednesday, household


def _weekday(day: str) -> int:
    from datetime import date

    return date.fromisoformat(day).weekday()


def replanning_section(
    workdir: Path, weeks: list[tuple[str, Path, float, float]], command: str
) -> str:
    """Per week (name, scenario file, limit of the first plan, limit of the re-plan):
    plan, change, re-plan with ``--previous``; what stayed, what moved."""
    lines = [
        "## Re-planning after a change (issue 3)",
        "",
        f"Reproduce: `{command}`.",
        "",
        "Each week is planned (`fieldwork plan`), then changed: the caseworker with the "
        "most appointments on Wednesday falls ill that day (a whole-day absence), and "
        "one household of another caseworker cancels (its visits leave the scenario). "
        "`fieldwork plan changed.json --previous published.json --time-limit L` re-plans: "
        "tours that still fit stay exactly as they were, the rest is planned anew around "
        "them. wall s = the re-planning process, start-up included. kept = appointments "
        "with the same caseworker and start; moved = another caseworker or time; dropped "
        "= planned before, not now (the cancelled household's among them). Target "
        "(issue 3): <= 2 s for the pilot week, <= 20 s for 3,000 visits.",
        "",
        "| week | change | first plan: planned | re-plan limit s | wall s | peak RSS MB | "
        "planned | kept | moved | dropped | moved of the ill caseworker's | "
        "fieldwork check | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    verdicts: list[str] = []
    for name, source, first_limit, limit in weeks:
        first = plan_process(source, workdir / "published.json", "--time-limit", f"{first_limit:g}")
        document = json.loads(source.read_text())
        ill, day, household = ill_and_cancelled(document, first.plan)
        changed = workdir / "changed.json"
        changed.write_text(json.dumps(document))
        load = load_average()
        run = plan_process(
            changed,
            workdir / "replanned.json",
            "--time-limit",
            f"{limit:g}",
            "--previous",
            str(workdir / "published.json"),
        )
        replanning = run.plan["replanning"]
        ill_visits = {
            a["visit"]
            for a in first.plan["appointments"]
            if a["caseworker"] == ill and a["start"].startswith(day)
        }
        moved_ill = sum(1 for v in replanning["moved"] if v in ill_visits)
        target = 2.0 if "demo week" in name else 20.0
        verdicts.append(
            f"- {name}: re-plan {run.wall_s:.2f} s (<= {target:g}), "
            f"{replanning['kept']} kept, {len(replanning['moved'])} moved: "
            f"**{'met' if run.wall_s <= target and run.check_ok else 'not met'}**"
        )
        lines.append(
            f"| {name} | {ill} ill on {day}, household {household} cancels | "
            f"{first.scheduled}/{first.plan['kpis']['visits']} "
            f"| {limit:g} | {run.wall_s:.2f} | {run.peak_rss_mb:.0f} | "
            f"{run.scheduled}/{run.plan['kpis']['visits']} | {replanning['kept']} | "
            f"{len(replanning['moved'])} | {len(replanning['dropped'])} | "
            f"{moved_ill} of {len(ill_visits)} | "
            f"{'pass' if run.check_ok else 'FAIL: ' + run.check_output} | {load} |"
        )
    lines += ["", "Targets (issue 3):", "", *verdicts]
    return "\n".join(lines)


def replanning_weeks(workdir: Path, big_limit: float) -> list[tuple[str, Path, float, float]]:
    pilot = ROOT / "examples" / "ennigerloh-everswinkel.scenario.json"
    big = _write(scaling_scenario(3000), workdir / "replan-3000.json")
    shape = Shape.of(scaling_scenario(3000))
    return [
        ("Ennigerloh/Everswinkel demo week (30 households)", pilot, 10, 10),
        (f"generated, {shape.name()}", big, big_limit, 18),
    ]
