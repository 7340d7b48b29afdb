"""Errors as application/problem+json with field paths; the body size limit."""

from __future__ import annotations

from http import HTTPStatus

from fastapi.testclient import TestClient
from session_app import Tokens

from api.problems import MAX_BODY_BYTES


def test_a_bad_body_is_422_with_field_paths(client: TestClient, tokens: Tokens) -> None:
    body = {
        "pseudonym": "H0300",
        "lat": 123,
        "lon": 8.0,
        "availability": [{"weekday": 9, "start": "10:00", "end": "09:00"}],
        "colour": "red",
    }
    response = client.post("/households", json=body, headers=tokens.header("coordinator"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert set(problem) == {"type", "title", "status", "detail", "instance", "errors"}
    assert (problem["status"], problem["title"], problem["instance"]) == (
        422,
        HTTPStatus(422).phrase,
        "/households",
    )
    paths = {error["path"] for error in problem["errors"]}
    assert {"$.lat", "$.availability[0].weekday", "$.colour"} <= paths


def test_a_bad_query_parameter_names_it(client: TestClient, tokens: Tokens) -> None:
    response = client.get("/sites", params={"limit": 0}, headers=tokens.header("coordinator"))
    assert response.status_code == 422
    assert [error["path"] for error in response.json()["errors"]] == ["query.limit"]


def test_unknown_ids_are_404_problems(client: TestClient, tokens: Tokens) -> None:
    for path in ("/sites/999999", "/caseworkers/999999", "/visits/999999", "/vehicles/999999"):
        response = client.get(path, headers=tokens.header("admin"))
        assert response.status_code == 404
        assert response.json()["title"] == "Not Found"
    assert client.get("/nowhere", headers=tokens.header("admin")).status_code == 404


def test_an_oversized_body_is_413(client: TestClient, tokens: Tokens) -> None:
    body = b'{"key": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    headers = {**tokens.header("coordinator"), "Content-Type": "application/json"}
    response = client.post("/sites", content=body, headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413


def test_an_oversized_streamed_body_is_413(client: TestClient, tokens: Tokens) -> None:
    def chunks() -> object:
        for _ in range(6):
            yield b"x" * (1024 * 1024)

    headers = {**tokens.header("coordinator"), "Content-Type": "application/json"}
    response = client.post("/sites", content=chunks(), headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 413


def test_openapi_documents_errors_as_problem_json(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    responses = schema["paths"]["/households/{household_id}"]["get"]["responses"]
    for status in ("401", "403", "404", "422"):
        assert list(responses[status]["content"]) == ["application/problem+json"]
    problem = schema["components"]["schemas"]["ProblemDetails"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem["properties"])
    assert "HTTPValidationError" not in schema["components"]["schemas"]
