"""What each function's module imports, loaded in a fresh interpreter: event functions
never import FastAPI (it costs ~650 ms of cold start); an API function loads only its own
domain's service and routes (and identity's, which authenticates); and no function loads
libphonenumber before it parses a number."""

from pathlib import Path

import pytest

from outreach_local.runtime import API_FUNCTIONS
from outreach_local.template import load_template
from tests.support.function_probe import modules_imported_by, top_level_imported_by


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

# The services and routes each API function may load: its own domain's, and identity's
# (every route authenticates its caller). Another domain's service costs a cold start
# its imports (about 65 ms for the campaigns service in the contacts function). The
# contacts function also serves the import jobs (/v1/imports).
API_DOMAINS = {
    "identity": {"identity", "api_keys", "webhooks"},
    "contacts": {"contacts", "imports", "identity", "api_keys"},
    "campaigns": {"campaigns", "identity", "api_keys"},
    "conversations": {"conversations", "identity", "api_keys"},
}
ALL_FUNCTIONS = sorted({*EVENT_FUNCTIONS, *API_DOMAINS})


def test_api_functions_are_the_ones_the_local_stack_serves() -> None:
    kinds = _functions_by_trigger()
    assert sorted(kinds["api"]) == sorted(API_FUNCTIONS)
    assert "dispatcher" in kinds["event"]
    assert "imports" in kinds["event"]  # S3's "Object Created", through EventBridge
    assert not set(kinds["api"]) & set(kinds["event"])


@pytest.mark.parametrize("function", EVENT_FUNCTIONS)
def test_event_function_does_not_import_fastapi(function: str) -> None:
    heavy = top_level_imported_by(function, {"fastapi", "starlette", "mangum"})
    assert heavy == [], f"{function} imports {heavy}"


def test_every_api_function_has_its_domains_listed() -> None:
    assert sorted(API_DOMAINS) == sorted(_functions_by_trigger()["api"])


@pytest.mark.parametrize("function", sorted(API_DOMAINS))
def test_api_function_loads_only_its_domains_service_and_routes(function: str) -> None:
    loaded = {
        name
        for name in modules_imported_by(function)
        if name.startswith("outreach.") and name.endswith((".service", ".routes"))
    }
    domains = {name.split(".")[1] for name in loaded}
    assert function in domains, loaded
    assert domains <= API_DOMAINS[function], sorted(loaded)


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_no_function_imports_libphonenumber_before_it_parses_a_number(function: str) -> None:
    # About 40 ms of a cold start that a sign-in, a campaign list or a delivery receipt
    # never needs: outreach.phones, destinations and phone_zones import it on first use.
    loaded = top_level_imported_by(function, {"phonenumbers"})
    assert loaded == [], f"{function} imports {loaded}"


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_no_function_imports_the_encoding_detector_before_a_file_needs_it(function: str) -> None:
    # charset-normalizer reads only files that are not UTF-8 (contacts.csv_import's
    # _candidates imports it): about 10 ms of the imports and contacts cold starts.
    loaded = top_level_imported_by(function, {"charset_normalizer"})
    assert loaded == [], f"{function} imports {loaded}"


def test_no_deployed_function_may_deliver_webhooks_to_loopback() -> None:
    # WEBHOOK_ALLOW_LOOPBACK is the local stack's alone (issue 20, point 4): neither the
    # template (Globals or a function) nor sam local's env-vars file sets it.
    root = Path(__file__).resolve().parents[2]
    assert "WEBHOOK_ALLOW_LOOPBACK" not in (root / "template.yaml").read_text()
    assert "WEBHOOK_ALLOW_LOOPBACK" not in (root / "infra/local/env.json").read_text()
