"""The ``fieldwork`` command as a real process, for the CLI tests of every folder.

A uniquely named module (``tests/`` is on the import path through ``tests/conftest.py``,
and every test folder has a ``conftest`` of its own). The database comes by
``FIELDWORK_DATABASE_URL``; stdin is empty unless given, so a command that would ask
never waits; a wide terminal keeps rich from wrapping what the tests read; and no run
may end in a traceback, whatever its exit code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

FIELDWORK = Path(sys.executable).parent / "fieldwork"


def run_fieldwork(
    *args: str | Path,
    url: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdin: str = "",
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``fieldwork ARGS`` on the database at ``url``, with ``env`` added to the
    environment."""
    result = subprocess.run(
        [str(FIELDWORK), *(str(arg) for arg in args)],
        cwd=cwd,
        env={**os.environ, "FIELDWORK_DATABASE_URL": url, "COLUMNS": "200", **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result
