"""``fieldwork bookings`` and ``fieldwork fleet`` as real processes on both databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cli_process import run_fieldwork as fieldwork
from session_app import EXAMPLE
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import migrations
from core.audit import AuditEvent
from fleet.models import VehicleBooking


def test_book_change_cancel_block_retire_and_usage(
    tmp_path: Path, new_database: Callable[[str], Engine]
) -> None:
    engine = new_database("fleetcli")
    migrations.upgrade(engine)
    url = engine.url.render_as_string(hide_password=False)
    assert fieldwork("import", EXAMPLE, url=url, cwd=tmp_path).returncode == 0

    def run(*args: str | Path) -> tuple[int, str, str]:
        result = fieldwork(*args, url=url, cwd=tmp_path)
        return result.returncode, result.stdout, result.stderr

    # Local office time without an offset; the e-car keeps 15 minutes' handover.
    code, out, err = run(
        "bookings", "add", "ecar-enn-1", "--start", "2026-12-07T09:00", "--end",
        "2026-12-07T11:00", "--km", "30", "--caseworker", "cw01", "--purpose", "Hausbesuche",
    )  # fmt: skip
    assert code == 0, err
    assert "ecar-enn-1 07.12.2026 09:00-11:00 (frei ab 11:15)" in out
    booking_id = out.split()[1].rstrip(":")
    code, _, err = run(
        "bookings", "add", "ecar-enn-1", "--start", "2026-12-07T11:05", "--end", "2026-12-07T12:00"
    )  # fmt: skip
    assert code == 2
    assert err.startswith("abgelehnt: ecar-enn-1 ist von 07.12.2026 09:00 bis 07.12.2026 11:15")
    code, _, err = run("bookings", "add", "ecar-enn-1", "--start", "morgen", "--end", "x")
    assert code == 2 and "--start: 'morgen' is not an ISO time" in err
    code, _, err = run("bookings", "add", "no-such-car", "--start", "2026-12-07T09:00",
                       "--end", "2026-12-07T10:00")  # fmt: skip
    assert code == 2 and "unknown vehicle no-such-car" in err

    code, out, err = run("bookings", "change", booking_id, "--end", "2026-12-07T10:00")
    assert code == 0 and "jetzt 07.12.2026 09:00-10:00" in out, err
    code, out, _ = run("bookings", "list", "--vehicle", "ecar-enn-1")
    assert "Hausbesuche" in out and "09:00-10:00" in out

    code, _, err = run("fleet", "block", "ecar-enn-1", "--start", "2026-12-07T09:30",
                       "--end", "2026-12-07T12:00", "--reason", "Inspektion")  # fmt: skip
    assert code == 2 and "erst verlegen oder stornieren" in err
    code, out, err = run("bookings", "cancel", booking_id)
    assert code == 0 and f"Buchung {booking_id} storniert" in out, err
    code, _, err = run("bookings", "cancel", booking_id)
    assert code == 2 and "cancelled already" in err
    code, out, err = run("fleet", "block", "ecar-enn-1", "--start", "2026-12-07T09:30",
                         "--end", "2026-12-07T12:00", "--reason", "Inspektion")  # fmt: skip
    assert code == 0 and "Sperre" in out, err

    code, out, err = run("fleet", "usage", "--from", "2026-12-07", "--to", "2026-12-07",
                         "--site", "enn", "-o", tmp_path / "usage.csv")  # fmt: skip
    assert code == 0, err
    csv = (tmp_path / "usage.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf") and b";" in csv
    # 07:00-19:00 less the block 09:30-12:00: 9,5 hours available.
    assert "ecar-enn-1;enn;E-Auto;9,5;0,0;0,0" in csv.decode("utf-8-sig")
    code, _, err = run("fleet", "usage", "--from", "2026-12-08", "--to", "2026-12-07")
    assert code == 2 and "ends before it starts" in err

    code, out, err = run("fleet", "retire", "ebike-enn-2")
    assert code == 0 and "außer Dienst" in out, err
    code, _, err = run("bookings", "add", "ebike-enn-2", "--start", "2026-12-07T09:00",
                       "--end", "2026-12-07T10:00")  # fmt: skip
    assert code == 2 and "außer Dienst gestellt" in err

    with Session(engine) as session:
        statuses = session.scalars(select(VehicleBooking.status)).all()
        actors = set(session.scalars(select(AuditEvent.actor).where(
            AuditEvent.entity.in_(["vehicle_booking", "vehicle_block", "vehicle"])
        )))  # fmt: skip
    assert statuses == ["cancelled"]
    assert actors == {"cli"}
