"""A real server for the tests that need one (races between requests, CalDAV, SMTP):
the app served by uvicorn in a thread on a free local port.

A uniquely named module (``tests/`` is on the import path through ``tests/conftest.py``,
and every test folder has a ``conftest`` of its own).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    """A local TCP port nobody listens on (asked of the operating system)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app on ``http://127.0.0.1:<free port>`` (yielded) until the block ends; fails
    the test when the server has not started within 20 seconds."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", workers=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
