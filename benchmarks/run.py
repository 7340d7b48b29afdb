"""Runs the benchmarks and writes BENCHMARKS.md.

    .venv/bin/python -m benchmarks.run            # all, rewrites BENCHMARKS.md
    .venv/bin/python -m benchmarks.run --print    # all, prints instead

Every plan is made by the real command (`fieldwork plan` as a process, so wall times
include start-up) and judged by `fieldwork check`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scheduler.demo import generate_scenario
from scheduler.format import dump_document

ROOT = Path(__file__).resolve().parents[1]
FIELDWORK = Path(sys.executable).parent / "fieldwork"


@dataclass
class Run:
    wall_s: float
    peak_rss_mb: float
    visits: int
    scheduled: int
    unassigned: int
    km: float
    co2e_kg: float
    check_ok: bool
    reasons: dict[str, int]
    solver_wall_s: float


def plan_once(scenario: Path, output: Path, *args: str) -> Run:
    command = [str(FIELDWORK), "plan", str(scenario), "-o", str(output), "-q", *args]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()}")  # type: ignore[union-attr]
    check = subprocess.run(
        [str(FIELDWORK), "check", str(scenario), str(output)], capture_output=True, text=True
    )
    plan = json.loads(output.read_text())
    kpis = plan["kpis"]
    reasons: dict[str, int] = {}
    for item in plan["unassigned"]:
        reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
    return Run(
        wall_s=wall,
        peak_rss_mb=usage.ru_maxrss / 1024,
        visits=kpis["visits"],
        scheduled=kpis["scheduled"],
        unassigned=kpis["unassigned"],
        km=sum(kpis["distance_km"].values()),
        co2e_kg=kpis["co2e_kg"],
        check_ok=check.returncode == 0,
        reasons=reasons,
        solver_wall_s=plan["solver"]["wall_s"],
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def row(name: str, runs: list[Run], limit: str) -> str:
    walls = [r.wall_s for r in runs]
    first = runs[0]
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(first.reasons.items())) or "-"
    return (
        f"| {name} | {limit} | {statistics.median(walls):.2f} (min {min(walls):.2f}, "
        f"max {max(walls):.2f}, n={len(runs)}) | {max(r.peak_rss_mb for r in runs):.0f} | "
        f"{max(r.solver_wall_s for r in runs):.2f} | "
        f"{first.scheduled}/{first.visits} | {reasons} | {first.km:.1f} | {first.co2e_kg:.2f} | "
        f"{'pass' if all(r.check_ok for r in runs) else 'FAIL'} |"
    )


def planner_section(workdir: Path) -> str:
    lines = [
        "## Weekly visit planner (issue 2)",
        "",
        "Wall time of `fieldwork plan` as a process, start-up included; the time limit is "
        "an upper bound (the search stops once the plan stops improving). `planner s` is "
        "the plan's own `solver.wall_s` (the part the limit governs). Peak RSS of the "
        "planning process. Target: the 30-household demo week under 2 s.",
        "",
        "| scenario | time limit s | wall s | peak RSS MB | planner s | planned | "
        "unplanned by reason | km | kg CO2e | fieldwork check |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    demo = ROOT / "examples" / "ennigerloh-everswinkel.scenario.json"
    runs = [plan_once(demo, workdir / "demo.plan.json") for _ in range(5)]
    lines.append(row("Ennigerloh/Everswinkel demo week (30 households)", runs, "10"))
    rottweil = ROOT / "examples" / "rottweil.scenario.json"
    runs = [plan_once(rottweil, workdir / "rottweil.plan.json") for _ in range(3)]
    lines.append(row("Rottweil demo week (24 households)", runs, "10"))
    for households, limit in ((300, "10"), (300, "30"), (1000, "10"), (1000, "30")):
        scenario = generate_scenario(households=households, seed=1, programme="warendorf")
        path = workdir / f"generated-{households}.scenario.json"
        path.write_text(json.dumps(dump_document(scenario)))
        runs = [
            plan_once(path, workdir / f"generated-{households}.plan.json", "--time-limit", limit)
        ]
        name = (
            f"generated, {households} households, {len(scenario.visits)} visits, "
            f"{len(scenario.caseworkers)} caseworkers, {len(scenario.sites)} sites"
        )
        lines.append(row(name, runs, limit))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--print", action="store_true", help="print instead of writing")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        sections = [planner_section(Path(directory))]
    text = "\n".join(
        [
            "# Benchmarks",
            "",
            "Reproduce: `make bench` (= `.venv/bin/python -m benchmarks.run`).",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
            "",
            *sections,
            "",
        ]
    )
    if arguments.print:
        sys.stdout.write(text)
    else:
        (ROOT / "BENCHMARKS.md").write_text(text)
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
