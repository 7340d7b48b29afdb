"""The ``fieldwork`` command line, run as a real process through its console script.

Exit codes (api/cli.py): 0 fine, 1 a checked plan breaks a promise, 2 bad input with one
line per problem on stderr and never a traceback.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.format import Plan
from scheduler.validation import load_scenario

FIELDWORK = Path(sys.executable).parent / "fieldwork"
SPEC = Path(__file__).parent / "data" / "spec"
SCENARIO_FILE = SPEC / "small-week.scenario.json"
SPEC_PLAN_FILE = SPEC / "small-week.plan.json"
TIMEOUT_S = 180

Doc = dict[str, Any]

#: Environment variables that would make Rich behave as if stderr/stdout were a terminal
#: or change its width; the tests want the plain behaviour of a pipe.
_TERMINAL_HINTS = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES")


def fieldwork(
    *args: str | Path | float, cwd: Path, timeout: float = TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _TERMINAL_HINTS}
    return subprocess.run(
        [str(FIELDWORK), *(str(a) for a in args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def write(path: Path, doc: Doc) -> Path:
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scenario_doc() -> Doc:
    return json.loads(SCENARIO_FILE.read_text("utf-8"))


@pytest.fixture
def scenario(scenario_doc: Doc) -> Doc:
    """A fresh copy of the spec's small week, to break."""
    return copy.deepcopy(scenario_doc)


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Doc]]:
    """One real plan of the small week, made once: (directory, plan document)."""
    directory = tmp_path_factory.mktemp("planned")
    (directory / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    result = fieldwork(
        "plan",
        "scenario.json",
        "-o",
        "plan.json",
        "--time-limit",
        "2",
        "--seed",
        "1",
        cwd=directory,
    )
    assert result.returncode == 0, result.stderr
    yield directory, json.loads((directory / "plan.json").read_text("utf-8"))


def prepare(tmp_path: Path, planned: tuple[Path, Doc]) -> Doc:
    """The scenario copied into ``tmp_path``; returns a copy of the plan to break."""
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    return copy.deepcopy(planned[1])


# ------------------------------------------------------------------------------ schema


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


@pytest.mark.parametrize(
    ("document", "fields"),
    [
        (
            "scenario",
            {
                "format",
                "name",
                "timezone",
                "horizon",
                "sites",
                "caseworkers",
                "households",
                "visits",
            },
        ),
        (
            "plan",
            {
                "format",
                "scenario",
                "solver",
                "appointments",
                "tours",
                "vehicle_bookings",
                "unassigned",
                "kpis",
            },
        ),
    ],
)
def test_schema_prints_json_schema(tmp_path: Path, document: str, fields: set[str]) -> None:
    result = fieldwork("schema", document, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert fields <= set(schema["properties"])
    assert fields <= set(schema["required"])
    # unknown fields are rejected, as the format demands
    assert schema["additionalProperties"] is False
    definitions = schema.get("$defs", {})
    for ref in _refs(schema):
        assert ref.startswith("#/$defs/"), ref
        assert ref.removeprefix("#/$defs/") in definitions, ref
    for name, definition in definitions.items():
        if definition.get("type") == "object" and "properties" in definition:
            assert definition.get("additionalProperties") is False, name


def test_schema_of_plan_uses_the_format_field_names(tmp_path: Path) -> None:
    result = fieldwork("schema", "plan", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    definitions = json.loads(result.stdout)["$defs"]
    assert {"from", "to", "km", "minutes"} <= set(definitions["Leg"]["properties"])
    assert "return" in definitions["Tour"]["properties"]
    assert "from_" not in definitions["Leg"]["properties"]
    assert "return_" not in definitions["Tour"]["properties"]


def test_schema_of_unknown_document_is_a_usage_error(tmp_path: Path) -> None:
    result = fieldwork("schema", "bogus", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    no_traceback(result)


# -------------------------------------------------------------------------- plan, check


def test_plan_writes_a_plan_and_prints_a_summary(tmp_path: Path, scenario_doc: Doc) -> None:
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    result = fieldwork(
        "plan",
        "scenario.json",
        "-o",
        "out.json",
        "--time-limit",
        "2",
        "--seed",
        "1",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    no_traceback(result)
    plan = Plan.model_validate_json((tmp_path / "out.json").read_text("utf-8"))
    assert plan.scenario == scenario_doc["name"]
    assert plan.kpis.visits == len(scenario_doc["visits"])
    assert plan.solver.time_limit_s == 2
    assert plan.solver.seed == 1
    assert scenario_doc["name"] in result.stdout
    assert "visits" in result.stdout
    assert "out.json" in result.stdout
    # stderr is a pipe here: no progress bar, no carriage returns, no colour codes
    assert "\r" not in result.stderr
    assert "\x1b" not in result.stderr
    assert "\x1b" not in result.stdout
    assert not (tmp_path / "out.json.tmp").exists()


def test_planned_plan_passes_check(tmp_path: Path, planned: tuple[Path, Doc]) -> None:
    write(tmp_path / "plan.json", prepare(tmp_path, planned))
    result = fieldwork("check", "scenario.json", "plan.json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")
    assert "rule" not in result.stdout
    no_traceback(result)


def test_spec_conformance_pair_passes_check(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    (tmp_path / "plan.json").write_bytes(SPEC_PLAN_FILE.read_bytes())
    result = fieldwork("check", "scenario.json", "plan.json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")


def test_plan_quiet_prints_nothing(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    result = fieldwork(
        "plan", "scenario.json", "-o", "out.json", "--time-limit", "1", "--quiet", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    Plan.model_validate_json((tmp_path / "out.json").read_text("utf-8"))


def test_plan_full_time_uses_the_time_limit(tmp_path: Path) -> None:
    """Without --full-time the small week stops once it stops improving (well under the
    limit); with it, the search runs until the limit, and the plan still keeps every
    promise."""
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    walls = {}
    for flag in ("", "--full-time"):
        args = ["plan", "scenario.json", "-o", "out.json", "--time-limit", "4", "-q"]
        result = fieldwork(*args, *([flag] if flag else []), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        walls[flag] = Plan.model_validate_json((tmp_path / "out.json").read_text("utf-8"))
        check = fieldwork("check", "scenario.json", "out.json", cwd=tmp_path)
        assert check.returncode == 0, check.stdout
    assert walls["--full-time"].solver.wall_s >= 2.5
    assert walls[""].solver.wall_s < walls["--full-time"].solver.wall_s


def test_the_time_limit_counts_the_process_start_up() -> None:
    """``fieldwork plan``'s clock starts with the process, not after its imports: a
    process that has slept half a second before asking has at least that much behind
    it (and not minutes)."""
    probe = (
        "import time; time.sleep(0.5); from api.cli import process_started; "
        "print(time.monotonic() - process_started())"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert 0.5 <= float(result.stdout) < 30


def test_a_limit_shorter_than_the_start_up_still_plans(tmp_path: Path) -> None:
    """The start-up counts against the limit, but half the limit stays the planner's:
    0.2 s (less than Python's start-up) still gives the small week a plan."""
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    result = fieldwork(
        "plan", "scenario.json", "-o", "out.json", "--time-limit", "0.2", "-q", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    plan = Plan.model_validate_json((tmp_path / "out.json").read_text("utf-8"))
    assert plan.kpis.scheduled == len(plan.appointments) > 0
    assert fieldwork("check", "scenario.json", "out.json", cwd=tmp_path).returncode == 0


def test_plan_to_stdout_with_dash(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    result = fieldwork(
        "plan", "scenario.json", "-o", "-", "--time-limit", "1", "--quiet", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    Plan.model_validate_json(result.stdout)


def test_plan_creates_missing_output_directory(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    output = Path("new") / "deeper" / "plan.json"
    result = fieldwork(
        "plan", "scenario.json", "-o", output, "--time-limit", "1", "--seed", "1", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    Plan.model_validate_json((tmp_path / output).read_text("utf-8"))


def test_summary_shows_scenario_name_verbatim(tmp_path: Path, scenario: Doc) -> None:
    """A scenario name is the user's text, not Rich markup: brackets are kept and an
    unmatched closing tag must not crash the command after the plan was written."""
    scenario["name"] = "Team [nord] week 49 [/x]"
    write(tmp_path / "scenario.json", scenario)
    result = fieldwork(
        "plan",
        "scenario.json",
        "-o",
        "out.json",
        "--time-limit",
        "1",
        "--seed",
        "1",
        cwd=tmp_path,
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "Team [nord] week 49 [/x]" in result.stdout


def test_summary_shows_output_path_verbatim(tmp_path: Path) -> None:
    """'Plan written to ...' names the file that was written, brackets included."""
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    result = fieldwork(
        "plan", "scenario.json", "-o", "week49[v2].json", "--time-limit", "1", cwd=tmp_path
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "week49[v2].json").is_file()
    assert "week49[v2].json" in result.stdout


# ------------------------------------------------------------------------ broken plans

_VIOLATION = re.compile(r"^rule ([1-7]): (\$[^:\s]*): \S")
_COUNT = re.compile(r"^(\d+) violation\(s\)$")


def violations(stdout: str) -> list[tuple[int, str]]:
    """(rule, path) of each violation line; checks the closing count line too."""
    found = []
    output = lines(stdout)
    for line in output[:-1]:
        match = _VIOLATION.match(line)
        assert match, f"not a violation line: {line!r}"
        found.append((int(match.group(1)), match.group(2)))
    count = _COUNT.match(output[-1])
    assert count, output[-1]
    assert int(count.group(1)) == len(found)
    return found


def _shift(value: str, hours: int) -> str:
    return (datetime.fromisoformat(value) + timedelta(hours=hours)).isoformat()


def test_check_appointment_moved_three_hours(tmp_path: Path, planned: tuple[Path, Doc]) -> None:
    plan = prepare(tmp_path, planned)
    assert plan["appointments"], "the small week plans some visits"
    appointment = plan["appointments"][0]
    appointment["start"] = _shift(appointment["start"], 3)
    appointment["end"] = _shift(appointment["end"], 3)
    write(tmp_path / "plan.json", plan)
    result = fieldwork("check", "scenario.json", "plan.json", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 1, result.stdout
    found = violations(result.stdout)
    assert found
    assert any(
        rule in (2, 3) and (path.startswith("$.appointments[0]") or path.startswith("$.tours["))
        for rule, path in found
    ), found


def test_check_start_moved_after_end(tmp_path: Path, planned: tuple[Path, Doc]) -> None:
    plan = prepare(tmp_path, planned)
    appointment = plan["appointments"][0]
    appointment["start"] = _shift(appointment["start"], 3)
    write(tmp_path / "plan.json", plan)
    result = fieldwork("check", "scenario.json", "plan.json", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 1, result.stdout
    assert any(path.startswith("$.appointments[0]") for _, path in violations(result.stdout))


def test_check_deleted_booking(tmp_path: Path, planned: tuple[Path, Doc]) -> None:
    plan = prepare(tmp_path, planned)
    assert plan["vehicle_bookings"], "the small week's e-bike tours need bookings"
    booking = plan["vehicle_bookings"].pop(0)
    write(tmp_path / "plan.json", plan)
    result = fieldwork("check", "scenario.json", "plan.json", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 1, result.stdout
    found = violations(result.stdout)
    tour_index = next(i for i, t in enumerate(plan["tours"]) if t["id"] == booking["tour"])
    assert (4, f"$.tours[{tour_index}].vehicle") in found or any(
        rule == 4 and path.startswith(f"$.tours[{tour_index}]") for rule, path in found
    ), found


def test_check_deleted_appointment(tmp_path: Path, planned: tuple[Path, Doc]) -> None:
    plan = prepare(tmp_path, planned)
    del plan["appointments"][0]
    write(tmp_path / "plan.json", plan)
    result = fieldwork("check", "scenario.json", "plan.json", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 1, result.stdout
    found = violations(result.stdout)
    assert any(rule == 1 for rule, _ in found), found


def test_check_unreadable_plan_is_bad_input(tmp_path: Path, planned: tuple[Path, Doc]) -> None:
    plan = prepare(tmp_path, planned)
    plan["appointments"][0]["strat"] = plan["appointments"][0].pop("start")
    write(tmp_path / "plan.json", plan)
    result = fieldwork("check", "scenario.json", "plan.json", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2
    assert any("$.appointments[0].strat" in line for line in lines(result.stderr)), result.stderr


def test_check_scenario_given_as_plan(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    result = fieldwork("check", "scenario.json", "scenario.json", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2
    assert len(lines(result.stderr)) == 1
    assert "$.format" in result.stderr


def test_check_missing_plan_file(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    result = fieldwork("check", "scenario.json", "nope.json", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2
    assert lines(result.stderr) == ["nope.json: no such file"]


# -------------------------------------------------------------------------- bad inputs


def plan_bad(tmp_path: Path, argument: str = "scenario.json") -> list[str]:
    """Run ``plan`` on bad input: exit 2, no traceback, no plan; the stderr lines."""
    result = fieldwork("plan", argument, "-o", "out.json", "--time-limit", "1", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "out.json").exists()
    return lines(result.stderr)


def test_not_json(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_text('{"format": "fieldwork-scenario/1",\n  oops\n}')
    [line] = plan_bad(tmp_path)
    assert line.startswith("scenario.json: $: ")
    assert "not valid JSON" in line
    assert "line 2" in line


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_text("")
    [line] = plan_bad(tmp_path)
    assert line.startswith("scenario.json: $: ")


def test_not_an_object(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_text("[1, 2, 3]")
    [line] = plan_bad(tmp_path)
    assert line.startswith("scenario.json: $: ")


def test_missing_file(tmp_path: Path) -> None:
    assert plan_bad(tmp_path, "missing.json") == ["missing.json: no such file"]


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "somewhere").mkdir()
    [line] = plan_bad(tmp_path, "somewhere")
    assert line.startswith("somewhere: ")
    assert "directory" in line


def test_plan_given_as_scenario(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_bytes(SPEC_PLAN_FILE.read_bytes())
    [line] = plan_bad(tmp_path)
    assert line.startswith("scenario.json: $.format: ")


def test_unknown_field_is_named_with_its_path(tmp_path: Path, scenario: Doc) -> None:
    visit = scenario["visits"][0]
    visit["durration_minutes"] = visit.pop("duration_minutes")
    write(tmp_path / "scenario.json", scenario)
    found = plan_bad(tmp_path)
    assert all(line.startswith("scenario.json: $") for line in found), found
    typo = [line for line in found if "$.visits[0].durration_minutes" in line]
    assert len(typo) == 1, found
    assert "'durration_minutes'" in typo[0]


def test_unknown_extra_field_is_the_only_problem(tmp_path: Path, scenario: Doc) -> None:
    scenario["visits"][0]["durration_minutes"] = 90
    write(tmp_path / "scenario.json", scenario)
    [line] = plan_bad(tmp_path)
    assert line.startswith("scenario.json: $.visits[0].durration_minutes: ")
    assert "durration_minutes" in line.split(": ", 2)[2]


def _duplicate_visit(doc: Doc) -> None:
    doc["visits"][2]["id"] = doc["visits"][1]["id"]


def _dangling_household(doc: Doc) -> None:
    doc["visits"][3]["household"] = "H9999"


def _horizon_backwards(doc: Doc) -> None:
    doc["horizon"] = {"start": "2026-12-04", "end": "2026-11-30"}


def _latitude(doc: Doc) -> None:
    doc["households"][0]["location"]["lat"] = 95.0


def _longitude(doc: Doc) -> None:
    doc["sites"][1]["location"]["lon"] = -181.5


def _timezone(doc: Doc) -> None:
    doc["timezone"] = "Europe/Atlantis"


def _region(doc: Doc) -> None:
    doc["region"] = "DE-XX"


def _zero_duration(doc: Doc) -> None:
    doc["visits"][4]["duration_minutes"] = 0


def _negative_duration(doc: Doc) -> None:
    doc["visits"][5]["duration_minutes"] = -30


def _long_horizon(doc: Doc) -> None:
    doc["horizon"] = {"start": "2026-11-02", "end": "2026-12-04"}


def _duplicate_household(doc: Doc) -> None:
    doc["households"].append(copy.deepcopy(doc["households"][0]))


def _unknown_site(doc: Doc) -> None:
    doc["caseworkers"][0]["site"] = "nowhere"


BREAKS = {
    "duplicate visit id": (_duplicate_visit, "$.visits[2].id", "H0002/1"),
    "duplicate household id": (_duplicate_household, "$.households[8].id", "H0001"),
    "dangling household": (_dangling_household, "$.visits[3].household", "H9999"),
    "unknown site": (_unknown_site, "$.caseworkers[0].site", "nowhere"),
    "end before start": (_horizon_backwards, "$.horizon.end", "2026-11-30"),
    "latitude out of range": (_latitude, "$.households[0].location.lat", "95"),
    "longitude out of range": (_longitude, "$.sites[1].location.lon", "-181.5"),
    "unknown timezone": (_timezone, "$.timezone", "Europe/Atlantis"),
    "unknown region": (_region, "$.region", "DE-XX"),
    "zero duration": (_zero_duration, "$.visits[4].duration_minutes", "0"),
    "negative duration": (_negative_duration, "$.visits[5].duration_minutes", "-30"),
    "horizon over 31 days": (_long_horizon, "$.horizon", "33"),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_one_problem_one_line(tmp_path: Path, scenario: Doc, name: str) -> None:
    breaker, path, shown = BREAKS[name]
    breaker(scenario)
    write(tmp_path / "scenario.json", scenario)
    found = plan_bad(tmp_path)
    assert len(found) == 1, found
    prefix = f"scenario.json: {path}: "
    assert found[0].startswith(prefix), found
    assert shown in found[0].removeprefix(prefix), found


def test_several_problems_at_once(tmp_path: Path, scenario: Doc) -> None:
    chosen = [
        "unknown timezone",
        "unknown region",
        "end before start",
        "latitude out of range",
        "longitude out of range",
        "duplicate visit id",
        "dangling household",
        "zero duration",
        "negative duration",
    ]
    for name in chosen:
        BREAKS[name][0](scenario)
    scenario["visits"][0]["durration_minutes"] = 90  # and a structural problem
    write(tmp_path / "scenario.json", scenario)
    found = plan_bad(tmp_path)
    expected = {BREAKS[name][1] for name in chosen} | {"$.visits[0].durration_minutes"}
    assert len(found) == len(expected), found
    paths = [line.removeprefix("scenario.json: ").split(": ", 1)[0] for line in found]
    assert set(paths) == expected
    assert len(set(paths)) == len(paths)


def test_several_problems_in_one_structurally_broken_entry_each_get_a_line(
    tmp_path: Path, scenario: Doc
) -> None:
    visit = scenario["visits"][0]
    visit["durration_minutes"] = visit.pop("duration_minutes")
    visit["priority"] = 7
    visit["household"] = 17
    write(tmp_path / "scenario.json", scenario)
    found = plan_bad(tmp_path)
    paths = [line.removeprefix("scenario.json: ").split(": ", 1)[0] for line in found]
    assert len(set(paths)) == len(paths), found
    assert {
        "$.visits[0].durration_minutes",
        "$.visits[0].duration_minutes",
        "$.visits[0].priority",
        "$.visits[0].household",
    } == set(paths)


# ------------------------------------------------------------------------------ options


@pytest.mark.parametrize("value", ["0", "abc", "nan", "-1", "1e9"])
def test_bad_time_limit_is_a_usage_error(tmp_path: Path, value: str) -> None:
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    result = fieldwork(
        "plan", "scenario.json", "-o", "out.json", "--time-limit", value, cwd=tmp_path
    )
    no_traceback(result)
    assert result.returncode == 2
    assert "--time-limit" in result.stderr
    assert not (tmp_path / "out.json").exists()


def test_plan_without_output_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    result = fieldwork("plan", "scenario.json", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2


# ----------------------------------------------------------------------- demo-scenario


def test_demo_scenario_can_be_planned_and_checked(tmp_path: Path) -> None:
    result = fieldwork(
        "demo-scenario", "--households", "12", "--seed", "3", "-o", "X.json", cwd=tmp_path
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "X.json").read_text("utf-8")
    scenario = load_scenario(text, source="X.json")  # valid: every check passes
    assert len(scenario.households) == 12
    planned = fieldwork(
        "plan",
        "X.json",
        "-o",
        "X.plan.json",
        "--time-limit",
        "3",
        "--seed",
        "1",
        cwd=tmp_path,
    )
    no_traceback(planned)
    assert planned.returncode == 0, planned.stderr
    checked = fieldwork("check", "X.json", "X.plan.json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("OK")


def test_demo_scenario_is_repeatable(tmp_path: Path) -> None:
    for name in ("a.json", "b.json"):
        result = fieldwork(
            "demo-scenario", "--households", "12", "--seed", "3", "-o", name, cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "a.json").read_text("utf-8") == (tmp_path / "b.json").read_text("utf-8")


Generated = tuple[Plan, float]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int, float], Generated]:
    """Plan a generated week of ``households`` with ``--time-limit``: (plan, process seconds).

    Each (households, time limit) is generated and planned once per module.
    """
    cache: dict[tuple[int, float], Generated] = {}

    def make(households: int, time_limit: float) -> Generated:
        key = (households, time_limit)
        if key not in cache:
            directory = tmp_path_factory.mktemp(f"generated-{households}")
            result = fieldwork(
                "demo-scenario",
                "--households",
                households,
                "--seed",
                "2",
                "-o",
                "s.json",
                cwd=directory,
            )
            assert result.returncode == 0, result.stderr
            started = time.monotonic()
            result = fieldwork(
                "plan",
                "s.json",
                "-o",
                "p.json",
                "--time-limit",
                time_limit,
                "--quiet",
                cwd=directory,
            )
            elapsed = time.monotonic() - started
            no_traceback(result)
            assert result.returncode == 0, result.stderr
            plan = Plan.model_validate_json((directory / "p.json").read_text("utf-8"))
            cache[key] = plan, elapsed
        return cache[key]

    return make


@pytest.mark.parametrize(("households", "time_limit"), [(60, 3), (200, 5)])
def test_generated_week_gets_visits_planned(
    generated: Callable[[int, float], Generated], households: int, time_limit: float
) -> None:
    """Each visit of a demo week fits alone; a plan that places none of them is wrong."""
    plan, _ = generated(households, time_limit)
    assert plan.kpis.visits >= households
    assert plan.kpis.scheduled >= plan.kpis.visits // 2, (
        plan.kpis.scheduled,
        plan.kpis.visits,
        plan.unassigned[:3],
    )


def test_plan_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal, stderr carries the progress bar: seconds of the limit, visits placed."""
    import pty

    output = tmp_path / "plan.json"
    pid, terminal = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the pseudo-terminal
        env = {k: v for k, v in os.environ.items() if k not in _TERMINAL_HINTS}
        env["COLUMNS"] = "160"
        os.execve(
            str(FIELDWORK),
            [str(FIELDWORK), "plan", str(SCENARIO_FILE), "-o", str(output), "-q"],
            env,
        )
    chunks = []
    while True:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert "Planen" in screen
    assert re.search(r"\d+\.\d/10 s", screen), screen
    assert re.search(r"\d+/8 Besuche", screen), screen
    Plan.model_validate_json(output.read_text("utf-8"))


def test_plan_summary_tells_what_no_plan_can_place(tmp_path: Path) -> None:
    """With one visit a day per caseworker the demo week's 22 working caseworker-days
    hold 22 of its 33 visits that fit alone: the summary says so, and the plan keeps
    to it."""
    example = (
        Path(__file__).resolve().parents[1] / "examples" / "ennigerloh-everswinkel.scenario.json"
    )
    doc = json.loads(example.read_text("utf-8"))
    for caseworker in doc["caseworkers"]:
        caseworker["max_visits_per_day"] = 1
    write(tmp_path / "capped.json", doc)
    result = fieldwork("plan", "capped.json", "-o", "out.json", "--time-limit", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    no_traceback(result)
    said = " ".join(result.stdout.split())
    assert "Capacity: of 33 visits that fit alone, at most 22 fit together" in said
    assert "the daily cap on 21 caseworker-days limits the week" in said
    assert "11 stay open in any plan" in said
    plan = Plan.model_validate_json((tmp_path / "out.json").read_text("utf-8"))
    assert plan.kpis.scheduled <= 22


def test_plan_summary_has_no_capacity_line_when_all_fits(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_bytes(SCENARIO_FILE.read_bytes())
    result = fieldwork("plan", "scenario.json", "-o", "out.json", "--time-limit", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    plan = Plan.model_validate_json((tmp_path / "out.json").read_text("utf-8"))
    assert all(item.reason != "capacity" for item in plan.unassigned)
    assert "Capacity:" not in result.stdout
