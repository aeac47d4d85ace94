"""Cold start of every Lambda function, against two baselines.

What it measures: for each ``functions/<name>/app.py`` (discovered, not listed
here), the time to import the handler module and serve one request or event,
in a fresh Python process per sample. It prints the median and the minimum
over ``--runs`` processes (default 9) beside two baselines measured in the same
run with the same method:

* ``baseline:boto3``: a bare handler module that imports boto3, creates a
  DynamoDB client and returns;
* ``baseline:fastapi``: a minimal FastAPI + Mangum app with one GET route,
  serving one API Gateway HTTP API (v2) event.

How a sample is taken: the parent starts ``python -P bench/cold_start.py
--child <spec>``. The child sets a fixed, offline environment, imports boto3
and moto, starts ``moto.mock_aws()``, creates the tables of template.yaml and
the ``bench-send.fifo`` queue (with its own boto3 session, so the handler's
clients start cold), and only then starts the clock. The clock covers loading
``app.py`` by path and one call ``handler(event, context)``; the handler's
output goes to /dev/null. The child checks the response (an API answers 200,
the dispatcher returns ``campaigns``) and prints ``ELAPSED_MS=<float>``.

Every child does the same untimed setup, so boto3, botocore and moto (and
what they import) are already loaded when the clock starts: the figures leave
out interpreter start-up and the boto3 import, and compare what the function
itself adds. Samples of different targets are interleaved, after one discarded
warm-up process per target (which also fills ``__pycache__``).

Sample events: ``infra/events/<name>.json`` if present, else
``infra/events/api-health.json`` (API functions) or
``infra/events/scheduler-tick.json`` (the dispatcher), else one built here.

Run from the repository root::

    PYTHONPATH=layers/outreach/python:infra/local .venv/bin/python bench/cold_start.py
    ... bench/cold_start.py --runs 15
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = REPO_ROOT / "functions"
EVENTS_DIR = REPO_ROOT / "infra" / "events"
CHILD_PYTHONPATH = (REPO_ROOT / "layers" / "outreach" / "python", REPO_ROOT / "infra" / "local")

HANDLER = "handler"
ELAPSED_PREFIX = "ELAPSED_MS="
MIN_RECOMMENDED_RUNS = 7
SEND_QUEUE_NAME = "bench-send.fifo"
TABLE_PREFIX = "bench-"

# The kind of each known function; functions added later are classified by
# _guess_kind. "api": FastAPI behind Mangum; "scheduler": EventBridge Scheduler.
FUNCTION_KINDS: dict[str, str] = {
    "identity": "api",
    "contacts": "api",
    "campaigns": "api",
    "dispatcher": "scheduler",
    "sender": "sqs",
    "inbound": "sqs-sns",
    "stats": "dynamodb",
}
# The shared sample-event file of each kind (infra/events/<name>.json wins).
KIND_EVENT_FILES: dict[str, str] = {
    "api": "api-health.json",
    "scheduler": "scheduler-tick.json",
    "sqs": "sqs-send.json",
    "sqs-sns": "sqs-inbound-text.json",
    "dynamodb": "dynamodb-stream-window.json",
}
# API functions without an unauthenticated route serve one request that stops at
# the bearer check: the import, the app and the auth dependency, answering 401.
UNAUTHENTICATED_PATHS: dict[str, str] = {"contacts": "/v1/contacts", "campaigns": "/v1/campaigns"}
SCHEDULER_EVENT: dict[str, Any] = {
    "scheduled_time": "2026-11-23T15:00:00Z",
    "execution_id": "bench",
}

# The topics of infra/events/sqs-*.json (a stack named outreach-dev).
_SAMPLE_TOPICS = "arn:aws:sns:us-east-1:123456789012:outreach-dev"
# Not a secret: a fixed 48-character signing key for the offline children.
_BENCH_SIGNING_KEY = "bench-only-signing-key-not-a-secret-0123456789ab"
CHILD_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "TABLE_PREFIX": TABLE_PREFIX,
    "JWT_SECRET": _BENCH_SIGNING_KEY,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    # The inbound function accepts only its own topics: the sample event's.
    "INBOUND_TEXTS_TOPIC_ARN": f"{_SAMPLE_TOPICS}-InboundTextsTopic",
    "DELIVERY_EVENTS_TOPIC_ARN": f"{_SAMPLE_TOPICS}-DeliveryEventsTopic",
}
# Inherited settings that would send a child to a real account or endpoint.
CHILD_ENV_REMOVED = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS",
    "DYNAMODB_ENDPOINT",
    "JWT_SECRET_ARN",
    "SEND_QUEUE_URL",
)

BASELINE_BOTO3_SOURCE = '''\
"""Baseline: a bare handler that creates a DynamoDB client."""

import boto3

client = boto3.client("dynamodb")


def handler(event, context):
    return {"ok": True}
'''

BASELINE_FASTAPI_SOURCE = '''\
"""Baseline: a minimal FastAPI app with one GET route, behind Mangum."""

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/v1/health")
def health():
    return {"status": "ok"}


handler = Mangum(app, lifespan="off")
'''


# --------------------------------------------------------------------------- events


def api_gateway_v2_event(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event for ``method path``."""
    api_id = "benchapi01"
    domain = f"{api_id}.execute-api.us-east-1.amazonaws.com"
    user_agent = "outreach-bench/1.0"
    now = datetime.now(UTC)
    headers = {"host": domain, "user-agent": user_agent, "accept": "application/json"}
    if body is not None:
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(body.encode()))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": api_id,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": user_agent,
            },
            "requestId": "bench-request-0001",
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body
    return event


def sample_event(name: str, kind: str) -> tuple[dict[str, Any], str] | None:
    """The event ``name`` gets and where it came from; ``None`` when there is none."""
    if name in UNAUTHENTICATED_PATHS:
        path = UNAUTHENTICATED_PATHS[name]
        return api_gateway_v2_event("GET", path), f"built: GET {path} (no token)"
    candidates = [EVENTS_DIR / f"{name}.json"]
    if kind in KIND_EVENT_FILES:
        candidates.append(EVENTS_DIR / KIND_EVENT_FILES[kind])
    for candidate in candidates:
        if candidate.is_file():
            event = json.loads(candidate.read_text())
            if not isinstance(event, dict):
                raise ValueError(f"{candidate} does not hold a JSON object")
            return event, str(candidate.relative_to(REPO_ROOT))
    if kind == "api":
        return api_gateway_v2_event("GET", "/v1/health"), "built: GET /v1/health"
    if kind == "scheduler":
        return dict(SCHEDULER_EVENT), "built: scheduler tick"
    return None


# --------------------------------------------------------------------------- targets


@dataclass
class Target:
    """One thing to time: a function of the project or a baseline."""

    name: str
    kind: str
    module_path: Path
    event: dict[str, Any] | None
    event_source: str
    check: dict[str, Any]
    samples: list[float] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None

    def spec(self) -> str:
        """The child's instructions, as JSON on its command line."""
        return json.dumps(
            {
                "name": self.name,
                "module_path": str(self.module_path),
                "event": self.event,
                "check": self.check,
            }
        )


def _guess_kind(name: str, source: str) -> str:
    """Classify a function nobody listed in FUNCTION_KINDS from its source."""
    if name in FUNCTION_KINDS:
        return FUNCTION_KINDS[name]
    if "lambda_handler(" in source or "Mangum" in source or "create_app(" in source:
        return "api"
    if "scheduled_time" in source or "tick_instant" in source or "Scheduler" in source:
        return "scheduler"
    return "event"


def _check_for(kind: str, name: str = "") -> dict[str, Any]:
    if kind in ("api", "baseline-api"):
        return {"status_code": 401 if name in UNAUTHENTICATED_PATHS else 200}
    if kind == "scheduler":
        return {"keys": ["campaigns"]}
    if kind in ("sqs", "sqs-sns"):
        return {"keys": ["batchItemFailures"]}
    if kind == "dynamodb":
        return {"keys": ["state"]}
    return {}


def discover_functions() -> list[Target]:
    """Every ``functions/<name>/app.py``, with its kind, sample event and check."""
    targets = []
    for app in sorted(FUNCTIONS_DIR.glob("*/app.py")):
        name = app.parent.name
        kind = _guess_kind(name, app.read_text())
        found = sample_event(name, kind)
        target = Target(
            name=name,
            kind=kind,
            module_path=app,
            event=found[0] if found else None,
            event_source=found[1] if found else "none",
            check=_check_for(kind, name),
        )
        if found is None:
            target.skipped = f"no sample event: add infra/events/{name}.json"
        targets.append(target)
    return targets


def baseline_targets(directory: Path) -> list[Target]:
    """The two baselines, written as handler modules into ``directory``."""
    boto3_path = directory / "baseline_boto3.py"
    boto3_path.write_text(BASELINE_BOTO3_SOURCE)
    fastapi_path = directory / "baseline_fastapi.py"
    fastapi_path.write_text(BASELINE_FASTAPI_SOURCE)
    return [
        Target(
            name="baseline:boto3",
            kind="baseline",
            module_path=boto3_path,
            event={},
            event_source="{}",
            check={},
        ),
        Target(
            name="baseline:fastapi",
            kind="baseline-api",
            module_path=fastapi_path,
            event=api_gateway_v2_event("GET", "/v1/health"),
            event_source="built: GET /v1/health",
            check=_check_for("baseline-api"),
        ),
    ]


# --------------------------------------------------------------------------- parent


def child_environment() -> dict[str, str]:
    """The parent's environment with the layer and local packages on PYTHONPATH."""
    env = dict(os.environ)
    paths = [str(path) for path in CHILD_PYTHONPATH]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_sample(target: Target, env: dict[str, str], timeout: float) -> float:
    """Time ``target`` once in a fresh process; raise ``RuntimeError`` when it fails."""
    command = [sys.executable, "-P", str(Path(__file__).resolve()), "--child", target.spec()]
    try:
        result = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"timed out after {timeout:.0f} s") from exc
    elapsed = [
        line.removeprefix(ELAPSED_PREFIX)
        for line in result.stdout.splitlines()
        if line.startswith(ELAPSED_PREFIX)
    ]
    if result.returncode != 0 or len(elapsed) != 1:
        detail = _tail(result.stderr) or _tail(result.stdout) or "(no output)"
        raise RuntimeError(f"child exited with {result.returncode}:\n{detail}")
    return float(elapsed[0])


def measure(targets: list[Target], runs: int, warmup: int, timeout: float) -> None:
    """Take ``warmup`` discarded then ``runs`` kept samples of each target, interleaved."""
    env = child_environment()
    for round_number in range(warmup + runs):
        for target in targets:
            if target.error or target.skipped:
                continue
            try:
                elapsed = run_sample(target, env, timeout)
            except RuntimeError as exc:
                target.error = str(exc)
                print(f"\n{target.name}: FAILED", file=sys.stderr)
                continue
            if round_number >= warmup:
                target.samples.append(elapsed)
        print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


def _median(values: list[float]) -> float:
    import statistics  # here, not at the top: keep it out of the children's preloaded modules

    return statistics.median(values)


def _ratio(value: float, baseline: Target) -> str:
    if baseline.error or not baseline.samples:
        return "n/a"
    return f"{value / _median(baseline.samples):.2f}x"


def print_report(targets: list[Target], boto3_baseline: Target, fastapi_baseline: Target) -> None:
    """The table, then the event each target got, then every failure in full."""
    name_width = max(len("function"), *(len(target.name) for target in targets))
    header = (
        f"{'function':<{name_width}}  {'kind':<12} {'median ms':>10} {'min ms':>9}"
        f" {'vs boto3':>9} {'vs fastapi':>11}"
    )
    print(header)
    print("-" * len(header))
    for target in targets:
        row = f"{target.name:<{name_width}}  {target.kind:<12}"
        if target.error:
            print(f"{row} FAILED (see below)")
        elif target.skipped:
            print(f"{row} skipped ({target.skipped})")
        else:
            median = _median(target.samples)
            print(
                f"{row} {median:>10.1f} {min(target.samples):>9.1f}"
                f" {_ratio(median, boto3_baseline):>9} {_ratio(median, fastapi_baseline):>11}"
            )
    print()
    print("events:")
    for target in targets:
        print(f"  {target.name:<{name_width}}  {target.event_source}")
    for target in targets:
        if target.error:
            print()
            print(f"FAILED {target.name} ({target.module_path}):")
            print(target.error)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    """Measure every function and both baselines; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument(
        "--runs",
        type=_positive_int,
        default=9,
        help="fresh processes per target whose median is reported (default: 9)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="discarded processes per target before sampling (default: 1)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds one child may take before it counts as failed (default: 120)",
    )
    parser.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child_main(args.child)

    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as scratch:
        functions = discover_functions()
        boto3_baseline, fastapi_baseline = baselines = baseline_targets(Path(scratch))
        targets = [*functions, *baselines]
        print("Outreach cold start: import the handler module + serve one event, per process")
        print(
            f"python {platform.python_version()} ({platform.python_implementation()},"
            f" {sys.executable}) on {platform.system()} {platform.machine()}"
        )
        print(
            f"{args.runs} fresh processes per target (+{args.warmup} warm-up, discarded),"
            " interleaved; boto3, moto and mock_aws are loaded before the clock starts"
        )
        if args.runs < MIN_RECOMMENDED_RUNS:
            print(f"note: fewer than {MIN_RECOMMENDED_RUNS} runs, the medians are rough")
        if not functions:
            print(f"note: no functions/*/app.py under {REPO_ROOT}")
        started = time.perf_counter()
        measure(targets, args.runs, max(args.warmup, 0), args.timeout)
        print(f"({time.perf_counter() - started:.0f} s)")
        print()
        print_report(targets, boto3_baseline, fastapi_baseline)
    return 1 if any(target.error for target in targets) else 0


# --------------------------------------------------------------------------- child


def _setup_aws() -> None:
    """Untimed: an offline AWS (moto) with the template's tables and the send queue."""
    import boto3
    import moto

    from outreach_local.template import create_tables

    moto.mock_aws().start()
    # A session of its own, so the handler's clients find no warm caches.
    session = boto3.session.Session(region_name=CHILD_ENV["AWS_REGION"])
    create_tables(session.client("dynamodb"), TABLE_PREFIX)
    queue = session.client("sqs").create_queue(
        QueueName=SEND_QUEUE_NAME, Attributes={"FifoQueue": "true"}
    )
    os.environ["SEND_QUEUE_URL"] = queue["QueueUrl"]


def _check_response(response: object, check: dict[str, Any]) -> str | None:
    """Why ``response`` is not sane for ``check``, or ``None`` when it is."""
    if "status_code" in check:
        status = response.get("statusCode") if isinstance(response, dict) else None
        if status != check["status_code"]:
            return f"expected statusCode {check['status_code']}, got {status!r}: {response!r}"
    if "keys" in check:
        if not isinstance(response, dict):
            return f"expected a dict, got {response!r}"
        missing = [key for key in check["keys"] if key not in response]
        if missing:
            return f"response lacks {missing}: {response!r}"
    return None


def child_main(raw_spec: str) -> int:
    """One sample: set up (untimed), import the handler and serve one event (timed)."""
    spec = json.loads(raw_spec)
    for name in CHILD_ENV_REMOVED:
        os.environ.pop(name, None)
    os.environ.update(CHILD_ENV)
    _setup_aws()

    from outreach_local.runtime import LocalLambdaContext

    context = LocalLambdaContext(function_name=spec["name"])
    module_name = "bench_cold_start_" + re.sub(r"\W", "_", spec["name"])
    module_spec = importlib.util.spec_from_file_location(module_name, spec["module_path"])
    if module_spec is None or module_spec.loader is None:
        print(f"cannot load {spec['module_path']}", file=sys.stderr)
        return 2
    loader = module_spec.loader
    event = spec["event"]

    with open(os.devnull, "w") as sink:
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                start = time.perf_counter()
                module = importlib.util.module_from_spec(module_spec)
                sys.modules[module_name] = module
                loader.exec_module(module)
                response = getattr(module, HANDLER)(event, context)
                elapsed_ms = (time.perf_counter() - start) * 1000
        except Exception:
            traceback.print_exc()
            return 1
        problem = _check_response(response, spec["check"])
        if problem:
            print(problem, file=sys.stderr)
            return 1
        print(f"{ELAPSED_PREFIX}{elapsed_ms:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
