"""The local stack: one app at API Gateway's paths, and `python -m outreach_local` for real."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from outreach_local.runtime import API_FUNCTIONS, load_function
from outreach_local.server import api_routers, build_app
from outreach_local.template import REPO_ROOT, load_template


def _routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route, from the app's OpenAPI document.

    (FastAPI keeps included routers as nested objects, so ``app.routes`` does
    not list their routes.)
    """
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert routes, "an app with no routes"
    return routes


def test_local_app_serves_exactly_the_functions_routes() -> None:
    expected: set[tuple[str, str]] = set()
    for name in API_FUNCTIONS:
        expected |= _routes(load_function(name).app)
    local = _routes(build_app())
    assert ("POST", "/v1/auth/login") in expected and (
        "POST",
        "/v1/campaigns/{campaign_id}/start",
    ) in expected
    assert {route for route in local if not route[1].startswith("/v1/dev/")} == expected
    assert {route for route in local if route[1].startswith("/v1/dev/")} == {
        ("POST", "/v1/dev/tick"),
        ("GET", "/v1/dev/outbox"),
        ("POST", "/v1/dev/inbound"),
        ("POST", "/v1/dev/delivery"),
    }
    assert len(api_routers()) == len({id(router) for router in api_routers()})


def _matches(template_path: str, path: str) -> bool:
    if template_path.endswith("/{proxy+}"):
        return path.startswith(template_path.removesuffix("{proxy+}"))
    return path == template_path


def test_every_function_route_is_routed_to_that_function_by_api_gateway() -> None:
    resources = load_template()["Resources"]
    checked: set[str] = set()
    for resource in resources.values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        name = resource["Properties"]["CodeUri"].strip("/").split("/")[-1]
        if name not in API_FUNCTIONS:
            continue
        gateway_paths = [
            event["Properties"]["Path"] for event in resource["Properties"]["Events"].values()
        ]
        checked.add(name)
        for _method, path in _routes(load_function(name).app):
            assert any(_matches(gateway, path) for gateway in gateway_paths), (name, path)
    assert checked == set(API_FUNCTIONS)


def test_dev_routes_never_reach_the_template() -> None:
    text = (REPO_ROOT / "template.yaml").read_text()
    assert "/v1/dev" not in text
    for name in API_FUNCTIONS:
        assert not any(path.startswith("/v1/dev") for _m, path in _routes(load_function(name).app))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback URL built here
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _post(url: str, data: bytes) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(  # noqa: S310
        url, data=data, headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def local_stack(tmp_path: Any) -> Iterator[str]:
    port = _free_port()
    # The README's environment, not the test suite's: nothing set by tests/conftest.py.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/"),
        "PORT": str(port),
        "TICK_SECONDS": "1",
        "PYTHONPATH": f"{REPO_ROOT / 'layers/outreach/python'}:{REPO_ROOT / 'infra/local'}",
    }
    log = (tmp_path / "stack.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "outreach_local"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if _get(f"{base}/v1/health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the local stack did not answer within 90 s")
        log.seek(0)
        assert process.poll() is None, log.read()
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.seek(0)
        output = log.read()
        log.close()
        assert "Traceback" not in output, output
        assert "tick failed" not in output, output


@pytest.mark.loopback
@pytest.mark.enable_socket
def test_local_stack_serves_the_api(local_stack: str) -> None:
    status, _, body = _get(f"{local_stack}/v1/health")
    assert status == 200 and json.loads(body)["status"] == "ok"

    status, headers, body = _get(f"{local_stack}/v1/nowhere")
    assert status == 404
    assert headers["content-type"].startswith("application/problem+json")

    status, headers, body = _post(f"{local_stack}/v1/auth/login", b'{"email": ')
    assert 400 <= status < 500
    assert headers["content-type"].startswith("application/problem+json")

    status, _, body = _post(
        f"{local_stack}/v1/auth/register",
        json.dumps(
            {
                "email": "dev@local.test",
                "password": "correct horse battery",
                "full_name": "Dev",
                "organization_name": "Dev Co",
            }
        ).encode(),
    )
    assert status == 201, body

    status, _, body = _get(f"{local_stack}/openapi.json")
    paths = json.loads(body)["paths"]
    assert "/v1/health" in paths and "/v1/auth/login" in paths
    assert _get(f"{local_stack}/docs")[0] == 200
    time.sleep(1.5)  # at least one background tick runs the dispatcher


@pytest.mark.loopback
@pytest.mark.enable_socket
def test_prepare_environment_creates_tables_and_queue_and_ticks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import UTC, datetime

    import boto3

    from outreach_local.server import Ticker, prepare_environment, run_scheduled_functions

    saved = dict(os.environ)
    monkeypatch.setenv("TABLE_PREFIX", "localtest-")
    environment = prepare_environment()
    try:
        dynamodb = boto3.client(
            "dynamodb", region_name="us-east-1", endpoint_url=environment.dynamodb_endpoint
        )
        tables = dynamodb.list_tables()["TableNames"]
        assert "localtest-campaigns" in tables and "localtest-users" in tables
        assert os.environ["SEND_QUEUE_URL"].endswith("localtest-send.fifo")
        tick = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
        result = run_scheduled_functions(tick)
        assert result["now"] == "2026-11-23T15:00:00.000Z"
        assert result["campaigns"] == 0 and result["sent"] == 0
        ticker = Ticker(0.05)
        ticker.start()
        time.sleep(0.3)
        ticker.stop()
        ticker.join(timeout=5)
        assert not ticker.is_alive()
    finally:
        environment.stop()
        os.environ.clear()
        os.environ.update(saved)
