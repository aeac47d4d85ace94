"""Event functions never import FastAPI (it costs ~650 ms of cold start); an API function
loads only its own domain's service and routes (and identity's, which authenticates)."""

import subprocess
import sys

import pytest

from outreach_local.runtime import API_FUNCTIONS
from outreach_local.template import REPO_ROOT, load_template

PROBE = """
import importlib.util, os, sys
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
spec = importlib.util.spec_from_file_location("probe_app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
heavy = sorted(name for name in ("fastapi", "starlette", "mangum") if name in sys.modules)
print(",".join(heavy))
"""


def _functions_by_trigger() -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {"api": [], "event": []}
    for resource in load_template()["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        name = props["CodeUri"].strip("/").split("/")[-1]
        triggers = {event["Type"] for event in props.get("Events", {}).values()}
        kinds["api" if triggers == {"HttpApi"} else "event"].append(name)
    return kinds


EVENT_FUNCTIONS = _functions_by_trigger()["event"]


def test_api_functions_are_the_ones_the_local_stack_serves() -> None:
    kinds = _functions_by_trigger()
    assert sorted(kinds["api"]) == sorted(API_FUNCTIONS)
    assert "dispatcher" in kinds["event"]
    assert not set(kinds["api"]) & set(kinds["event"])


@pytest.mark.parametrize("function", EVENT_FUNCTIONS)
def test_event_function_does_not_import_fastapi(function: str) -> None:
    env_path = f"{REPO_ROOT / 'layers/outreach/python'}"
    result = subprocess.run(  # noqa: S603 - our own interpreter and file
        [sys.executable, "-c", PROBE, str(REPO_ROOT / "functions" / function / "app.py")],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{function} imports {result.stdout.strip()}"


DOMAIN_PROBE = """
import importlib.util, os, sys
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
spec = importlib.util.spec_from_file_location("probe_app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(",".join(sorted(name for name in sys.modules if name.endswith((".service", ".routes")))))
"""

# The services and routes each API function may load: its own domain's, and identity's
# (every route authenticates its caller). Another domain's service costs a cold start
# its imports (about 65 ms for the campaigns service in the contacts function).
API_DOMAINS = {
    "identity": {"identity"},
    "contacts": {"contacts", "identity"},
    "campaigns": {"campaigns", "identity"},
}


def test_every_api_function_has_its_domains_listed() -> None:
    assert sorted(API_DOMAINS) == sorted(_functions_by_trigger()["api"])


@pytest.mark.parametrize("function", sorted(API_DOMAINS))
def test_api_function_loads_only_its_domains_service_and_routes(function: str) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and file
        [sys.executable, "-c", DOMAIN_PROBE, str(REPO_ROOT / "functions" / function / "app.py")],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO_ROOT / "layers/outreach/python"), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = {name for name in result.stdout.strip().split(",") if name.startswith("outreach.")}
    domains = {name.split(".")[1] for name in loaded}
    assert function in domains, loaded
    assert domains <= API_DOMAINS[function], sorted(loaded)


ALL_FUNCTIONS = sorted({*EVENT_FUNCTIONS, *API_DOMAINS})
LIBPHONENUMBER_PROBE = DOMAIN_PROBE.replace(
    'name.endswith((".service", ".routes"))', 'name.split(".")[0] == "phonenumbers"'
)


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_no_function_imports_libphonenumber_before_it_parses_a_number(function: str) -> None:
    # About 40 ms of a cold start that a sign-in, a campaign list or a delivery receipt
    # never needs: outreach.phones, destinations and phone_zones import it on first use.
    result = subprocess.run(  # noqa: S603 - our own interpreter and file
        [
            sys.executable,
            "-c",
            LIBPHONENUMBER_PROBE,
            str(REPO_ROOT / f"functions/{function}/app.py"),
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO_ROOT / "layers/outreach/python"), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{function} imports {result.stdout.strip()}"
