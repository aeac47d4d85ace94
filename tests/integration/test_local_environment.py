"""The local stack completes its environment before any project module is imported.

(Issue: `make dev` answered every tick 500, "Must contain a metric namespace":
the Powertools objects were built at import, before the server set the
variables. The suite never saw it because conftest set them first.)
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from outreach_local.environment import apply_defaults, local_defaults, template_globals
from outreach_local.runtime import request_scope, service_for_path, service_name, service_scope
from outreach_local.template import REPO_ROOT, load_template

LOCAL_PATH = f"{REPO_ROOT / 'layers/outreach/python'}:{REPO_ROOT / 'infra/local'}"


def _bare_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter whose environment is a new user's shell."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    env["PYTHONPATH"] = LOCAL_PATH
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_defaults_are_the_templates_globals_plus_the_local_ones(tmp_path: Path) -> None:
    environ: dict[str, str] = {"AWS_REGION": "eu-west-1", "TABLE_PREFIX": "mine-"}
    applied = apply_defaults(environ, state_dir=tmp_path)
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert environ["POWERTOOLS_METRICS_NAMESPACE"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert environ["POWERTOOLS_LOG_LEVEL"] == variables["POWERTOOLS_LOG_LEVEL"]
    assert template_globals().keys() <= environ.keys()
    # What the user set wins; the rest is filled in.
    assert (environ["AWS_REGION"], environ["AWS_DEFAULT_REGION"]) == ("eu-west-1", "eu-west-1")
    assert environ["TABLE_PREFIX"] == "mine-" and "TABLE_PREFIX" not in applied
    assert environ["POWERTOOLS_SERVICE_NAME"] == local_defaults()["POWERTOOLS_SERVICE_NAME"]
    assert len(environ["JWT_SECRET"]) >= 32
    assert environ["JWT_SECRET"] == (tmp_path / "signing-key").read_text()
    assert apply_defaults(environ, state_dir=tmp_path) == {}, "a second call changes nothing"


def test_the_environment_module_imports_no_project_code() -> None:
    result = _bare_python(
        "import sys, outreach_local.environment\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'outreach'))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_objects_built_at_import_see_the_local_environment() -> None:
    """What `python -m outreach_local` does, from a new user's shell: defaults, then imports."""
    result = _bare_python(
        "from outreach_local.environment import apply_defaults\n"
        "apply_defaults()\n"
        "from outreach.observability import logger, metrics\n"
        "from outreach_local.runtime import service_scope\n"
        "metrics.add_metric(name='Probe', unit='Count', value=1)\n"
        "metrics.flush_metrics()\n"
        "with service_scope('sender'):\n"
        "    logger.info('probe')\n"
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    emf = next(line for line in lines if "_aws" in line)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Outreach"
    probe = next(line for line in lines if line.get("message") == "probe")
    assert probe["service"] == "sender"
    assert "service_undefined" not in result.stdout + result.stderr


def test_the_entry_point_sets_the_environment_before_importing_the_server() -> None:
    source = (REPO_ROOT / "infra/local/outreach_local/__main__.py").read_text()
    assert source.index("apply_defaults()") < source.index("import main")


def test_each_function_logs_under_its_template_service_name() -> None:
    from outreach.observability import logger

    resources = load_template()["Resources"]
    sender = next(
        r for r in resources.values() if r["Properties"].get("CodeUri") == "functions/sender/"
    )
    assert (
        service_name("sender")
        == sender["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    )
    # The logger's own formatter, writing where the test can read it.
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        with service_scope(service_name("sender")):
            with service_scope(service_name("stats")):
                logger.info("inner")
            logger.info("outer")
        logger.info("outside")
    finally:
        logging.getLogger(logger.name).removeHandler(handler)
    logged = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["message"], line["service"]) for line in logged] == [
        ("inner", "stats"),
        ("outer", "sender"),
        ("outside", os.environ["POWERTOOLS_SERVICE_NAME"]),
    ]


def test_an_api_request_logs_as_its_own_invocation_not_the_last_event_functions() -> None:
    """An event function run in this process (an import, a tick) leaves its invocation's
    keys in the logger's process-wide state; a request logs its own function's."""
    from outreach.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    stale = {"function_name": "imports", "function_request_id": "stale", "cold_start": True}
    logger.append_keys(**stale)
    try:
        with request_scope("/v1/contacts/tags"):
            logger.info("request")
        with request_scope("/v1/contacts/tags"):
            logger.info("another request")
        logger.info("event function")
    finally:
        logger.remove_keys(list(stale))
        logging.getLogger(logger.name).removeHandler(handler)
    first, second, after = (json.loads(line) for line in stream.getvalue().splitlines())
    for line in (first, second):
        assert line["service"] == "contacts"
        assert line["function_name"] == "contacts"
        assert line["function_arn"].endswith(":function:contacts")
        assert line["cold_start"] is False
        assert line["function_request_id"] not in ("stale", None)
    assert first["function_request_id"] != second["function_request_id"]
    assert (after["function_name"], after["function_request_id"]) == ("imports", "stale")


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/v1/health", "identity"),
        ("/v1/auth/login", "identity"),
        ("/v1/users/abc", "identity"),
        ("/v1/contacts/import", "contacts"),
        ("/v1/opt-outs", "contacts"),
        ("/v1/campaigns/abc/stats", "campaigns"),
        ("/v1/dev/tick", "dev"),
        ("/v1/contactsx", "dev"),
    ],
)
def test_requests_log_as_the_function_api_gateway_routes_them_to(path: str, service: str) -> None:
    assert service_for_path(path) == service


def test_the_signing_key_file_is_private(tmp_path: Path) -> None:
    from outreach_local.environment import signing_key

    first = signing_key(tmp_path)
    assert signing_key(tmp_path) == first and len(first) >= 48
    assert (tmp_path / "signing-key").stat().st_mode & 0o777 == 0o600
