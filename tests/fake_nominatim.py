"""A local stand-in for Nominatim's ``/search``: real HTTP on 127.0.0.1, no internet.

It answers from a small gazetteer (addresses compared case-insensitively, spacing
ignored) and records every request with the moment it arrived, its query and its
User-Agent, so tests can count requests and measure their spacing.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

#: Synthetic places in Ennigerloh and Everswinkel (no real household lives here).
GAZETTEER: dict[str, tuple[float, float]] = {
    "hauptstrasse 1, 59320 ennigerloh": (51.83671, 8.03112),
    "am markt 5, 48351 everswinkel": (51.92531, 7.84762),
    "ostenfelder strasse 12, 59320 ennigerloh": (51.84012, 8.04498),
    "vitusstrasse 3, 48351 everswinkel": (51.92389, 7.84455),
}


def _folded(query: str) -> str:
    text = query.casefold().replace("ß", "ss").replace("str.", "strasse")
    return re.sub(r"\s*,\s*", ", ", re.sub(r"\s+", " ", text)).strip()


@dataclass(frozen=True)
class Request:
    at: float
    query: str
    params: dict[str, list[str]]
    user_agent: str


@dataclass
class FakeNominatim:
    url: str
    requests: list[Request] = field(default_factory=list)
    #: Answer every request with this HTTP status instead (an outage).
    fail_with: int | None = None

    def queries(self) -> list[str]:
        return [request.query for request in self.requests]

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests, as the server saw them arrive."""
        moments = [request.at for request in self.requests]
        return [later - earlier for earlier, later in pairwise(moments)]


@contextmanager
def fake_nominatim() -> Iterator[FakeNominatim]:
    server_state: dict[str, FakeNominatim] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake = server_state["fake"]
            url = urlsplit(self.path)
            params = parse_qs(url.query)
            query = params.get("q", [""])[0]
            with lock:
                fake.requests.append(
                    Request(time.monotonic(), query, params, self.headers.get("User-Agent", ""))
                )
            if fake.fail_with is not None:
                self.send_response(fake.fail_with)
                self.end_headers()
                return
            if url.path != "/search":
                self.send_response(404)
                self.end_headers()
                return
            place = GAZETTEER.get(_folded(query))
            answer = (
                []
                if place is None
                else [
                    {
                        "place_id": 1,
                        "lat": str(place[0]),
                        "lon": str(place[1]),
                        "display_name": query,
                        "boundingbox": [
                            str(place[0] - 0.001),
                            str(place[0] + 0.001),
                            str(place[1] - 0.001),
                            str(place[1] + 0.001),
                        ],
                    }
                ]
            )
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    fake = FakeNominatim(url=f"http://{host!s}:{port}")
    server_state["fake"] = fake
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
