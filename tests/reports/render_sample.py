"""Render the README's sample report: the hand-built November of the tests, as PDF, and
its first page as PNG.

    .venv/bin/python tests/reports/render_sample.py [docs/]

writes ``sustainability-report-sample.pdf`` and ``sustainability-report-page1.png``.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

import pypdfium2
from report_month import build_month
from sqlalchemy.orm import Session

import migrations
from core.db import create_engine_for
from reports.export_pdf import render_pdf
from reports.periods import Period
from reports.sustainability import ReportOptions, sustainability_report


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine_for(f"sqlite:///{directory}/sample.db")
        migrations.upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            build_month(session)
            session.commit()
            report = sustainability_report(
                session=session,
                options=ReportOptions(period=Period(date(2026, 11, 1), date(2026, 11, 30))),
            )
        engine.dispose()
    data = render_pdf(report)
    (target / "sustainability-report-sample.pdf").write_bytes(data)
    document = pypdfium2.PdfDocument(data)
    # 100 dpi: sharp on screen, small in the repository.
    image = document[0].render(scale=100 / 72).to_pil()
    image.save(target / "sustainability-report-page1.png", optimize=True)
    print(target / "sustainability-report-page1.png")


if __name__ == "__main__":
    main()
