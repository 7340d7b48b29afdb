"""Runs the benchmarks and writes BENCHMARKS.md.

    .venv/bin/python -m benchmarks.run                       # every section
    .venv/bin/python -m benchmarks.run --only vroom,solomon  # some; keeps the others
    .venv/bin/python -m benchmarks.run --print               # prints instead of writing

Sections: ``planner`` (the weekly planner as a process: `fieldwork plan`, judged by
`fieldwork check`), ``vroom`` (fieldwork beside VROOM and a textbook OR-Tools model on
single-mode weeks, ``benchmarks/peers.py``) and ``solomon`` (Solomon VRPTW instances
through the routing core beside PyVRP, ``benchmarks/solomon.py``; by default fieldwork on
all 56 instances and PyVRP on 3 per family, 30 s each: about 10 minutes while the core
stops early, 37 when it uses its whole limit). Sections not re-run are kept from the
existing BENCHMARKS.md as they were, each with its own date.
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

from benchmarks import peers, scaling, solomon
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
        "the plan's own `solver.wall_s`: from the process's start (the limit counts the "
        "start-up) until the plan is made, before it is written. Peak RSS of the "
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


# ------------------------------------------------------------------- sections, merge

#: Section key -> the start of its heading in BENCHMARKS.md, in the file's order.
SECTIONS: dict[str, str] = {
    "planner": "## Weekly visit planner",
    "vroom": "## Peers on single-mode weeks",
    "solomon": "## Solomon VRPTW instances",
    "scaling": "## Scaling and time limits",
    "replanning": "## Re-planning after a change",
    "feeds": "## Calendar feeds",
    "service": "## Service: API latency",
    "fleet": "## Fleet: bookings",
    "reports": "## Sustainability report of a year",
    "web": "## Web pages",
}
HEADER = """# Benchmarks

Reproduce: `make bench` (= `.venv/bin/python -m benchmarks.run`, every section; it
installs the benchmark-only dependencies `.[bench]`: pyvroom, pyvrp, vrplib).
`--only planner,vroom,solomon` re-runs some sections and keeps the others as they were;
each section says when, on what and from which code it was measured, and the command
that reproduces its table."""


def code_version() -> str:
    """The commit measured, marked when scheduler/ had uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "scheduler"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{commit}{' with uncommitted changes in scheduler/' if dirty else ''}"


@dataclass(frozen=True)
class Stamp:
    """When, on what and from which code a section was measured (taken as it starts)."""

    text: str

    @classmethod
    def now(cls) -> Stamp:
        return cls(
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, "
            f"code {code_version()}."
        )

    def under_heading(self, section: str) -> str:
        heading, _, body = section.partition("\n")
        return f"{heading}\n\n{self.text}\n{body}"


def split_sections(text: str) -> dict[str, str]:
    """The sections of an existing BENCHMARKS.md by key (unknown headings keep their own)."""
    sections: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []

    def close() -> None:
        if current is not None:
            sections[current] = "\n".join(lines).strip()

    for line in text.splitlines():
        if line.startswith("## "):
            close()
            current = next((k for k, h in SECTIONS.items() if line.startswith(h)), line)
            lines = [line]
        elif current is not None:
            lines.append(line)
    close()
    return sections


def merged_document(old: str, new: dict[str, str]) -> str:
    """BENCHMARKS.md with ``new`` sections in place of their old versions."""
    sections = split_sections(old)
    if "planner" in sections and "Measured " not in sections["planner"]:
        # The file before sections carried their own date: its date line was global.
        measured = next((line for line in old.splitlines() if line.startswith("Measured ")), "")
        heading, _, body = sections["planner"].partition("\n")
        sections["planner"] = f"{heading}\n\n{measured}\n{body}"
    sections.update(new)
    order = [k for k in SECTIONS if k in sections] + [k for k in sections if k not in SECTIONS]
    return "\n\n".join([HEADER, *(sections[k].strip() for k in order)]) + "\n"


def _sizes(text: str) -> list[tuple[int, float]]:
    """``30:10,150:10`` -> [(30, 10.0), (150, 10.0)] (visits: fieldwork's time limit)."""
    sizes = []
    for item in text.split(","):
        visits, _, limit = item.partition(":")
        sizes.append((int(visits), float(limit or 10)))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--print", action="store_true", help="print instead of writing")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"sections to run, of {','.join(SECTIONS)}"
    )
    parser.add_argument(
        "--peer-sizes",
        default="30:10,150:10,600:60",
        help="single-mode weeks as visits:fieldwork time limit s",
    )
    parser.add_argument("--peer-seed", type=int, default=1)
    parser.add_argument("--feeds-requests", type=int, default=2000)
    parser.add_argument("--feeds-concurrency", type=int, default=8)
    parser.add_argument("--feeds-renders", type=int, default=50)
    parser.add_argument(
        "--api-requests",
        type=int,
        default=100,
        help="requests per row of the service, fleet and web sections",
    )
    parser.add_argument("--reports-weeks", type=int, default=52)
    parser.add_argument("--reports-caseworkers", type=int, default=30)
    parser.add_argument(
        "--peer-no-caps",
        action="store_true",
        help="drop max_visits_per_day from the peer weeks (kept by default: VROOM max_tasks)",
    )
    parser.add_argument(
        "--scaling-sizes",
        default="30:10,300:10,1000:30,3000:60",
        help="scaling weeks as visits:time limit s (visits of scaling.SIZES)",
    )
    parser.add_argument(
        "--replan-first-limit",
        type=float,
        default=60.0,
        help="time limit s of the published plan of the 3,000-visit week",
    )
    parser.add_argument("--solomon-time-limit", type=float, default=30.0)
    parser.add_argument(
        "--solomon-instances",
        default="all",
        help="instances for fieldwork: 'all', 'sample' or names (C101,R101,...)",
    )
    parser.add_argument(
        "--solomon-pyvrp-instances",
        default="sample",
        help="instances for PyVRP beside it (of fieldwork's): 'all', 'sample' or names",
    )
    parser.add_argument(
        "--solomon-sample",
        type=int,
        default=3,
        help="instances per family (C1 C2 R1 R2 RC1 RC2) that 'sample' stands for",
    )
    arguments = parser.parse_args()
    chosen = [key.strip() for key in arguments.only.split(",") if key.strip()]
    unknown = [key for key in chosen if key not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections {unknown}; expected some of {list(SECTIONS)}")

    base = ".venv/bin/python -m benchmarks.run"
    new: dict[str, str] = {}
    if "planner" in chosen:
        stamp = Stamp.now()
        with tempfile.TemporaryDirectory() as directory:
            new["planner"] = stamp.under_heading(planner_section(Path(directory)))
    if "vroom" in chosen:
        command = (
            f"{base} --only vroom --peer-sizes {arguments.peer_sizes} "
            f"--peer-seed {arguments.peer_seed}"
            + (" --peer-no-caps" if arguments.peer_no_caps else "")
        )
        stamp = Stamp.now()
        new["vroom"] = stamp.under_heading(
            peers.section(
                _sizes(arguments.peer_sizes),
                seed=arguments.peer_seed,
                keep_caps=not arguments.peer_no_caps,
                command=command,
            )
        )
    if "scaling" in chosen:
        command = f"{base} --only scaling --scaling-sizes {arguments.scaling_sizes}"
        stamp = Stamp.now()
        with tempfile.TemporaryDirectory() as directory:
            new["scaling"] = stamp.under_heading(
                scaling.scaling_section(
                    Path(directory),
                    [(int(v), limit) for v, limit in _sizes(arguments.scaling_sizes)],
                    command,
                )
            )
    if "replanning" in chosen:
        command = f"{base} --only replanning --replan-first-limit {arguments.replan_first_limit:g}"
        stamp = Stamp.now()
        with tempfile.TemporaryDirectory() as directory:
            workdir = Path(directory)
            new["replanning"] = stamp.under_heading(
                scaling.replanning_section(
                    workdir,
                    scaling.replanning_weeks(workdir, arguments.replan_first_limit),
                    command,
                )
            )
    if "solomon" in chosen:
        every = solomon.instance_names()

        def pick(choice: str) -> list[str]:
            if choice == "all":
                return every
            if choice == "sample":
                return solomon.sample(every, arguments.solomon_sample)
            return [name.strip() for name in choice.split(",") if name.strip()]

        names = pick(arguments.solomon_instances)
        beside = [name for name in pick(arguments.solomon_pyvrp_instances) if name in names]

        def listed(chosen: list[str]) -> str:
            return "all" if chosen == every else ",".join(chosen)

        command = (
            f"{base} --only solomon --solomon-time-limit {arguments.solomon_time_limit:g} "
            f"--solomon-instances {listed(names)} --solomon-pyvrp-instances {listed(beside)}"
        )
        stamp = Stamp.now()
        new["solomon"] = stamp.under_heading(
            solomon.section(
                names,
                time_limit_s=arguments.solomon_time_limit,
                command=command,
                pyvrp_names=beside,
            )
        )

    if "feeds" in chosen:
        from benchmarks import feeds

        command = (
            f"{base} --only feeds --feeds-requests {arguments.feeds_requests} "
            f"--feeds-concurrency {arguments.feeds_concurrency} "
            f"--feeds-renders {arguments.feeds_renders}"
        )
        stamp = Stamp.now()
        new["feeds"] = stamp.under_heading(
            feeds.section(
                requests=arguments.feeds_requests,
                concurrency=arguments.feeds_concurrency,
                renders=arguments.feeds_renders,
                command=command,
            )
        )
    for key in ("service", "fleet", "web"):
        if key in chosen:
            from benchmarks import service

            make = {
                "service": service.service_section,
                "fleet": service.fleet_section,
                "web": service.web_section,
            }[key]
            command = f"{base} --only {key} --api-requests {arguments.api_requests}"
            stamp = Stamp.now()
            new[key] = stamp.under_heading(make(requests=arguments.api_requests, command=command))
    if "reports" in chosen:
        from benchmarks import reports

        command = (
            f"{base} --only reports --reports-weeks {arguments.reports_weeks} "
            f"--reports-caseworkers {arguments.reports_caseworkers}"
        )
        stamp = Stamp.now()
        new["reports"] = stamp.under_heading(
            reports.section(
                weeks=arguments.reports_weeks,
                caseworkers=arguments.reports_caseworkers,
                command=command,
            )
        )
    path = ROOT / "BENCHMARKS.md"
    text = merged_document(path.read_text() if path.exists() else "", new)
    if not arguments.print:
        path.write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
