"""Cold start of every Lambda function, from the built artifacts, against two baselines.

What it measures: for each ``AWS::Serverless::Function`` of template.yaml, the
time to import its handler module and answer one sample event from
infra/events/, in a fresh interpreter loaded as Lambda loads it (the same load
as ``infra/lambda_load.py``, whose helpers it uses, run by ``make deploy-check``):

* ``python -I -S -B``: no site-packages, no .venv, no bytecode written (Lambda's
  ``/opt`` is read-only), so the layers' own ``.pyc`` are used and modules
  without one are compiled on every start;
* on the path only ``.aws-sam/build/<Function>`` (``/var/task``) and
  ``.aws-sam/build/<Layer>/python`` of each of its layers (``/opt/python``); on
  a host whose architecture is not the layers', the dependency layer's
  hard-linked copy in ``.aws-sam/lambda-load/`` with the host's native
  extensions swapped in;
* the template's environment (Globals and the function's own variables).

Nothing is imported before the clock starts but the stdlib modules the child
itself needs (json, os, sys, time). The clock covers ``import`` of the handler
module and one call ``handler(event, context)`` with the function's first
sample event (as ``lambda_load`` assigns them), except that an API event's bearer
token is replaced by a live one: before each API sample a user is registered and
logged in on the fresh state (untimed, by the identity service in this process),
so an authenticated route answers 200 from its data, as a real first request does
(Secrets Manager for the signing key, the session, the user, the route's own
reads; the organization has one contact), not a 401 from a made-up token. AWS
is moto, run as a server in the benchmark's own process (``AWS_ENDPOINT_URL``),
so no moto, boto3 or botocore is loaded in the child before its handler loads
them; before each
sample the server is reset and the template's tables, the function's queues and
signing key are created again (untimed), so every sample answers the same event
on the same fresh state.

Three baselines, loaded the same way from a directory holding their ``app.py``
with the same wheels on the path (none written):

* ``baseline:boto3``: a bare handler that imports boto3, creates a DynamoDB
  client and returns, from the built dependency layer with its ``.pyc`` (as
  the runtime's own boto3 comes precompiled) and with botocore's data for every
  service, as the runtime's boto3 and a plain install carry it (the layer keeps
  only the services Outreach calls: layers/dependencies/botocore-services.txt):
  the reference for event functions;
* ``baseline:fastapi-sam``: a minimal FastAPI + Mangum hello with one GET route,
  serving one API Gateway HTTP API (v2) event, infra/events/api-health.json, as
  a plain ``sam build`` ships it: the same wheels without usable bytecode (the
  default Python workflow does not compile, and SAM zips without timestamps, so
  a timestamp ``.pyc`` would be stale anyway: aws/aws-lambda-builders#924). It
  is the reference for API functions, whose layers ship unchecked-hash ``.pyc``
  (the issue's "compiled bytecode in the layers" lever);
* ``baseline:fastapi``: the same hello on the dependency layer with its ``.pyc``,
  printed as a second ratio: what is left once bytecode is equal.

It prints, per function, the median and minimum over ``--runs`` processes
(after ``--warmup`` discarded ones; targets interleaved), the import and first
call medians, the ratio to its baseline beside the goal of the cold-start issue
(API functions <= 1.0x the FastAPI hello, event functions <= 1.5x the boto3
handler) and whether it is met, the number of layer modules compiled at run
time (0 when the layers ship bytecode), the artifact size (the function and
its layers, unzipped) against Lambda's 250 MB, and the peak resident memory of
the process by the end of its first call (the most over the samples; goal for
event functions: 128 MB, Lambda's smallest memory size). After the timed
samples, one more per target runs under ``-X importtime`` (untimed): where the
import time goes, as the ten top-level packages with the most import self time,
so a regression names its cause. It exits 1 when a sample fails
(an import error, a 5xx or failed batch items); unmet goals are only reported.

Needs ``sam build``'s output: run ``make deploy-check`` first. Then::

    PYTHONPATH=layers/outreach/python:infra/local .venv/bin/python bench/cold_start.py
    ... bench/cold_start.py --runs 15
"""

# The child imports as little as possible before its clock starts: the parent's imports are late.

from __future__ import annotations

import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from infra.lambda_load import Target as LoadTarget

HTTP_API_GOAL = 1.0  # times the FastAPI + Mangum hello
EVENT_GOAL = 1.5  # times the bare boto3 handler
EVENT_RSS_GOAL_MB = 128  # peak RSS of an event function's first call: Lambda's smallest size
MIN_RECOMMENDED_RUNS = 7

BASELINE_BOTO3_SOURCE = '''\
"""Baseline: a bare handler that creates a DynamoDB client."""

import boto3

client = boto3.client("dynamodb")


def handler(event, context):
    return {"ok": True}
'''

NO_BYTECODE_LAYER = "DependenciesLayer:no-bytecode"  # the layer's wheels as `sam build` ships them
# The layer with botocore's data for every service (.venv's, the same version), as the
# runtime's own boto3 and a plain `pip install boto3` carry it.
RUNTIME_BOTO3_LAYER = "DependenciesLayer:every-service"
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


# --------------------------------------------------------------------------- child


def _problem(answer: object, expect_status: int | None) -> str | None:
    """Why the answer is a failure, or ``None``."""
    if isinstance(answer, dict) and "statusCode" in answer:
        status = int(answer["statusCode"])
        if (expect_status is not None and status != expect_status) or status >= 500:
            return f"answered {status}: {answer.get('body')!r}"
    elif isinstance(answer, dict) and answer.get("batchItemFailures"):
        return f"failed items {answer['batchItemFailures']}"
    return None


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far, interpreter included, as Lambda's "Max
    Memory Used" counts it: ``VmHWM`` of /proc/self/status (MiB). Not ``getrusage``: on
    Linux its ``ru_maxrss`` survives ``exec``, so a child would report its parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # the value is in kB
    raise RuntimeError("no VmHWM in /proc/self/status (the figure needs Linux)")


def child(spec_path: str, result_path: str) -> int:
    """One sample, in a fresh ``-I -S -B`` interpreter: import the handler, answer one event."""
    import importlib

    with open(spec_path) as handle:
        spec = json.load(handle)
    with open(spec["event"]) as handle:
        event = json.load(handle)
    layers: list[str] = spec["layers"]
    # The project root, off the path again before the function loads (-I left it off).
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from infra import lambda_child

    sys.path.pop(0)
    compiled = lambda_child.record_compiles()
    sys.path[:0] = [spec["task"], *layers]
    module_name, _, handler_name = spec["handler"].rpartition(".")
    result: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        handler = getattr(importlib.import_module(module_name), handler_name)
        imported = time.perf_counter()
        answer = handler(event, lambda_child.LambdaContext())
        done = time.perf_counter()
    except BaseException as exc:  # reported as the sample's failure
        result["problem"] = f"{type(exc).__name__}: {exc}"
        import traceback

        traceback.print_exc()
    else:
        result["import_ms"] = (imported - started) * 1000
        result["call_ms"] = (done - imported) * 1000
        result["peak_rss_mb"] = _peak_rss_mb()
        result["problem"] = _problem(answer, spec["expect_status"])
    result["compiled"] = sum(any(p.startswith(root + os.sep) for root in layers) for p in compiled)
    with open(result_path, "w") as handle:
        json.dump(result, handle)
    return 0


# --------------------------------------------------------------------------- parent


class Measured:
    """One thing to time: a function of the template or a baseline."""

    def __init__(self, target: LoadTarget, task: Path, event: str, kind: str, size: int) -> None:
        self.target = target
        self.task = task
        self.event = event
        self.kind = kind  # "api", "event" or "baseline"
        self.size = size
        self.import_ms: list[float] = []
        self.call_ms: list[float] = []
        self.peak_rss_mb: list[float] = []
        self.compiled = 0
        self.error: str | None = None
        # The ten top-level packages whose modules took longest to import (self time, ms).
        self.breakdown: list[tuple[str, float]] = []

    @property
    def name(self) -> str:
        return self.target.logical_id

    @property
    def totals(self) -> list[float]:
        return [a + b for a, b in zip(self.import_ms, self.call_ms, strict=True)]


class MotoServer:
    """moto in this process, as a server the children reach through AWS_ENDPOINT_URL."""

    def __init__(self, tables: list[dict[str, Any]], scratch: Path) -> None:
        import logging

        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        self.tables = tables
        self.scratch = scratch  # where the events with a live token are written
        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's, not a secret
            region_name="us-east-1",
        )
        self.clients: dict[str, Any] = {}
        self.client = lambda service: self.clients.setdefault(
            service,
            session.client(service, endpoint_url=self.url),
        )

    def live_token(self) -> str:
        """An access token of a user registered now on the server's (fresh) tables.

        The identity service of this process is pointed at the server on first use
        (the tables of the stack the sample events name, the key its secret holds)."""
        from infra.lambda_load import LOCAL_SIGNING_KEY, STACK_NAME

        from outreach.config import get_settings
        from outreach.contacts.domain import ContactChanges
        from outreach.contacts.service import get_contact_service
        from outreach.identity.service import get_identity_service
        from outreach.observability import logger

        os.environ.update(
            {
                "TABLE_PREFIX": f"{STACK_NAME}-",
                "DYNAMODB_ENDPOINT": self.url,
                "JWT_SECRET": LOCAL_SIGNING_KEY,
                "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
            }
        )
        get_settings.cache_clear()
        logger.setLevel("WARNING")  # its "signed in" lines are not the bench's figures
        identity = get_identity_service()
        password = "bench password 0123456789"  # noqa: S105 - a throwaway local user
        _, organization = identity.register(
            email="bench@example.test",
            password=password,
            full_name="Bench",
            organization_name="Bench Co",
        )
        # One contact, so a contact list has a number to check (libphonenumber loads).
        get_contact_service().create(
            organization.id, ContactChanges(phone="+16175550123", first_name="Pat")
        )
        return identity.login(email="bench@example.test", password=password).access_token

    def fresh(self, measured: Measured) -> dict[str, str]:
        """Reset, create what the function finds on AWS; the env values that depend on it."""
        import urllib.request

        reset = f"{self.url}/moto-api/reset"
        request = urllib.request.Request(reset, method="POST")  # noqa: S310 - our own server
        with urllib.request.urlopen(request) as response:  # noqa: S310
            response.read()
        if measured.kind == "baseline":
            return {}
        from infra.lambda_load import create_resources

        return create_resources(self.client, self.tables, measured.target.created)

    def stop(self) -> None:
        self.server.stop()


def build_targets(functions: list[LoadTarget], scratch: Path) -> list[Measured]:
    """Every function of the template, then the two baselines written into ``scratch``."""
    from infra.lambda_load import BUILD_DIR, Target, layer_sizes, tree_size

    found = []
    for target in functions:
        task = BUILD_DIR / target.logical_id
        kind = "api" if target.events[0].startswith("api-") else "event"
        size = tree_size(task) + sum(layer_sizes[layer] for layer in target.layers)
        found.append(Measured(target, task, target.events[0], kind, size))
    dependencies = "DependenciesLayer"
    for name, source, event, layer in (
        ("baseline:boto3", BASELINE_BOTO3_SOURCE, "scheduler-tick.json", RUNTIME_BOTO3_LAYER),
        ("baseline:fastapi-sam", BASELINE_FASTAPI_SOURCE, "api-health.json", NO_BYTECODE_LAYER),
        ("baseline:fastapi", BASELINE_FASTAPI_SOURCE, "api-health.json", dependencies),
    ):
        task = scratch / name.replace(":", "-")
        task.mkdir()
        (task / "app.py").write_text(source)
        target = Target(name, "app.handler", [layer], {}, {})
        size = tree_size(task) + layer_sizes[dependencies]
        found.append(Measured(target, task, event, "baseline", size))
    return found


def without_bytecode(layer: Path, copy: Path) -> Path:
    """A (hard-linked where it can) copy of ``layer`` without its ``__pycache__`` folders."""
    import os
    import shutil

    def link(source: str, target: str) -> None:
        try:
            os.link(source, target)
        except OSError:  # another file system
            shutil.copy2(source, target)

    shutil.copytree(layer, copy, ignore=shutil.ignore_patterns("__pycache__"), copy_function=link)
    return copy


def with_every_service(layer: Path, copy: Path) -> Path:
    """A hard-linked copy of ``layer`` whose ``botocore/data`` holds every service's data:
    .venv's botocore data, which must be of the layer's botocore version."""
    import os
    import shutil
    from pathlib import Path

    import botocore

    ours = (layer / "botocore" / "__init__.py").read_text()
    if f"__version__ = '{botocore.__version__}'" not in ours:
        raise SystemExit(f"the layer's botocore is not .venv's {botocore.__version__}")
    shutil.copytree(layer, copy, copy_function=os.link)
    shutil.rmtree(copy / "botocore" / "data")
    shutil.copytree(
        Path(botocore.__file__).parent / "data", copy / "botocore" / "data", copy_function=os.link
    )
    return copy


def run_sample(
    measured: Measured,
    layer_dirs: dict[str, Path],
    aws: MotoServer,
    timeout: float,
    *,
    importtime: bool = False,
) -> None:
    """One fresh interpreter for ``measured``; its figures are appended, or its error set.

    With ``importtime`` the sample runs under ``-X importtime`` (which slows imports):
    its figures are not kept, only its breakdown (:func:`import_breakdown`)."""
    import subprocess

    from infra.lambda_load import EVENTS_DIR, lambda_environment, run_child

    env = {
        **lambda_environment(measured.target, measured.task),
        **aws.fresh(measured),
        "AWS_ENDPOINT_URL": aws.url,
    }
    event_path = EVENTS_DIR / measured.event
    event = json.loads(event_path.read_text())
    if measured.kind == "api" and "authorization" in event.get("headers", {}):
        event["headers"]["authorization"] = f"Bearer {aws.live_token()}"
        event_path = aws.scratch / f"live-{measured.event}"
        event_path.write_text(json.dumps(event))
    spec = {
        "task": str(measured.task.resolve()),
        "layers": [str(layer_dirs[layer].resolve()) for layer in measured.target.layers],
        "handler": measured.target.handler,
        "event": str(event_path),
        # A baseline's hello and an API function's first request (a live token) answer 200.
        "expect_status": 200
        if measured.kind in ("api", "baseline") and "api-" in measured.event
        else None,
    }
    try:
        options = ["-X", "importtime"] if importtime else []
        proc, written, _ = run_child(__file__, spec, env, timeout, options=options)
    except subprocess.TimeoutExpired:
        measured.error = f"timed out after {timeout:.0f} s"
        return
    result = written or {}
    if proc.returncode != 0 or result.get("problem") or "import_ms" not in result:
        output = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-12:])
        measured.error = f"{result.get('problem') or f'exited with {proc.returncode}'}\n{output}"
        return
    if importtime:
        measured.breakdown = import_breakdown(proc.stderr)
        return
    measured.import_ms.append(result["import_ms"])
    measured.call_ms.append(result["call_ms"])
    measured.peak_rss_mb.append(result["peak_rss_mb"])
    measured.compiled = max(measured.compiled, result["compiled"])


def import_breakdown(stderr: str, most: int = 10) -> list[tuple[str, float]]:
    """The ``most`` top-level packages whose modules took longest to import, with their
    summed self time in ms, from ``python -X importtime``'s lines on ``stderr``
    (``import time: <self us> | <cumulative us> | <indented module>``). Summing self
    times per package adds up: no import is counted twice."""
    totals: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        package = fields[2].strip().split(".")[0]
        totals[package] = totals.get(package, 0.0) + int(fields[0]) / 1000
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)[:most]


def measure(
    found: list[Measured],
    layer_dirs: dict[str, Path],
    aws: MotoServer,
    *,
    runs: int,
    warmup: int,
    timeout: float,
) -> None:
    """``warmup`` discarded then ``runs`` kept samples of each target, interleaved."""
    for round_number in range(warmup + runs):
        for measured in found:
            if measured.error:
                continue
            run_sample(measured, layer_dirs, aws, timeout)
            if measured.error:
                print(f"\n{measured.name}: FAILED", file=sys.stderr)
            elif round_number < warmup:
                measured.import_ms.pop()
                measured.call_ms.pop()
                measured.peak_rss_mb.pop()
        print(".", end="", file=sys.stderr, flush=True)
    for measured in found:  # one more, untimed, for where the import time goes
        if not measured.error:
            run_sample(measured, layer_dirs, aws, timeout, importtime=True)
    print(file=sys.stderr)


def rss_verdict(measured: Measured) -> str:
    """`` (RSS goal met)`` / `` (RSS goal NOT met)`` for an event function, else ``""``."""
    if measured.kind != "event":
        return ""
    met = max(measured.peak_rss_mb) <= EVENT_RSS_GOAL_MB
    return " (RSS goal met)" if met else " (RSS goal NOT met)"


def print_report(found: list[Measured]) -> None:
    """The table, the goals, then every failure in full."""
    from statistics import median

    from infra.lambda_load import LAMBDA_UNZIPPED_LIMIT

    by_name = {m.name: m for m in found}
    bases = {"event": by_name["baseline:boto3"], "api": by_name["baseline:fastapi-sam"]}
    precompiled_hello = by_name["baseline:fastapi"]
    goals = {"event": EVENT_GOAL, "api": HTTP_API_GOAL}
    width = max(len(m.name) for m in found)
    header = (
        f"{'function':<{width}}  {'kind':<8} {'event':<28} {'median':>7} {'min':>7}"
        f" {'import':>7} {'call':>6}  {'ratio':>6} {'goal':<12} {'met':<4}"
        f" {'compiled':>8} {'size MB':>8} {'peak RSS MB':>11} {'vs .pyc hello':>13}"
    )
    print(header)
    print("-" * len(header))
    for measured in found:
        row = f"{measured.name:<{width}}  {measured.kind:<8} {measured.event:<28}"
        if measured.error or not measured.totals:
            print(f"{row} FAILED (see below)")
            continue
        total = median(measured.totals)
        ratio, goal, met = "", "", ""
        if measured.kind in bases:
            base = bases[measured.kind]
            if base.totals and not base.error:
                value = total / median(base.totals)
                ratio = f"{value:.2f}x"
                met = "yes" if value <= goals[measured.kind] else "NO"
            else:
                ratio = "n/a"
            against = "hello" if measured.kind == "api" else "boto3"
        second = ""
        if measured.kind == "api" and precompiled_hello.totals and not precompiled_hello.error:
            second = f"{total / median(precompiled_hello.totals):.2f}x"
            goal = f"<={goals[measured.kind]:.1f}x {against}"
        size = measured.size / 2**20
        print(
            f"{row} {total:>7.0f} {min(measured.totals):>7.0f}"
            f" {median(measured.import_ms):>7.0f} {median(measured.call_ms):>6.0f}"
            f"  {ratio:>6} {goal:<12} {met:<4} {measured.compiled:>8}"
            f" {size:>8.1f} {max(measured.peak_rss_mb):>11.0f} {second:>13}"
            f"{'' if measured.size <= LAMBDA_UNZIPPED_LIMIT else ' > 250 MB!'}"
            f"{rss_verdict(measured)}"
        )
    print(
        "median, min, import, call: ms in a fresh interpreter (import of the handler + first"
        " call), no bytecode written\n"
        "ratio: median / the baseline's median; goals from the cold-start issue: API functions"
        f" <= {HTTP_API_GOAL:.1f}x the FastAPI+Mangum hello as `sam build` ships it (no usable"
        f" bytecode), event functions <= {EVENT_GOAL:.1f}x the bare boto3 handler\n"
        "vs .pyc hello: an API function's median / the hello given the layer's own .pyc"
        " (no goal: what is left once bytecode is equal)\n"
        "compiled: layer modules compiled at run time (no usable .pyc)\n"
        "size: the function + its layers, unzipped (as built, arm64), against Lambda's"
        f" {LAMBDA_UNZIPPED_LIMIT / 2**20:.0f} MB\n"
        "peak RSS: the most any sample's process held resident by the end of its first call"
        f" (goal for event functions: <= {EVENT_RSS_GOAL_MB} MB, Lambda's smallest memory size)"
    )
    print()
    print("where the import time goes (one extra sample under -X importtime, which slows it;")
    print("self time summed per top-level package, the ten largest, ms):")
    for measured in found:
        if measured.breakdown:
            parts = ", ".join(f"{name} {ms:.0f}" for name, ms in measured.breakdown)
            print(f"  {measured.name}: {parts}")
    for measured in found:
        if measured.error:
            print()
            print(f"FAILED {measured.name} ({measured.event}):")
            print(measured.error)


def _positive_int(text: str) -> int:
    import argparse

    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    """Measure every built function and both baselines; print the table."""
    import argparse
    import platform
    import tempfile
    from pathlib import Path

    repo_root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(repo_root), str(repo_root / "infra/local")]
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
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="FUNCTION",
        help="measure only this function (its logical id, e.g. SenderFunction; repeatable);"
        " the baselines are always measured",
    )
    args = parser.parse_args(argv)

    from infra.lambda_load import BUILD_DIR, STACK_NAME, prepare_layers, targets

    from outreach_local.template import create_table_requests, load_template

    if not BUILD_DIR.is_dir():
        print(
            f"no {BUILD_DIR}: the benchmark loads the built functions"
            " and layers; run `make deploy-check` first",
            file=sys.stderr,
        )
        return 2
    template = load_template(repo_root / "template.yaml")
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as scratch:
        functions = targets(template)
        unknown = set(args.only) - {t.logical_id for t in functions}
        if unknown:
            names = ", ".join(sorted(unknown))
            print(f"no such function in template.yaml: {names}", file=sys.stderr)
            return 2
        if args.only:
            functions = [t for t in functions if t.logical_id in args.only]
        # Records each layer's size (build_targets reads them) and gives the host's copy.
        layer_dirs = prepare_layers(
            {"DependenciesLayer", *(x for t in functions for x in t.layers)}
        )
        layer_dirs[NO_BYTECODE_LAYER] = without_bytecode(
            layer_dirs["DependenciesLayer"], Path(scratch, "no-bytecode", "python")
        )
        layer_dirs[RUNTIME_BOTO3_LAYER] = with_every_service(
            layer_dirs["DependenciesLayer"], Path(scratch, "every-service", "python")
        )
        found = build_targets(functions, Path(scratch))
        print("Outreach cold start, from .aws-sam/build: import the handler + answer one event")
        shown = {
            str(p.relative_to(repo_root))
            for p in layer_dirs.values()
            if p.is_relative_to(repo_root)
        }
        print(
            f"python {platform.python_version()} ({sys.executable}, -I -S -B)"
            f" on {platform.system()} {platform.machine()}; layers from"
            f" {', '.join(sorted(shown))}"
        )
        print(
            f"{args.runs} fresh processes per target (+{args.warmup} warm-up, discarded),"
            " interleaved; AWS is a moto server, reset before each sample"
        )
        if args.runs < MIN_RECOMMENDED_RUNS:
            print(f"note: fewer than {MIN_RECOMMENDED_RUNS} runs, the medians are rough")
        aws = MotoServer(create_table_requests(f"{STACK_NAME}-", template), Path(scratch))
        try:
            started = time.perf_counter()
            measure(
                found,
                layer_dirs,
                aws,
                runs=args.runs,
                warmup=max(args.warmup, 0),
                timeout=args.timeout,
            )
            print(f"({time.perf_counter() - started:.0f} s)")
        finally:
            aws.stop()
        print()
        print_report(found)
    return 1 if any(measured.error for measured in found) else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2], sys.argv[3]))
    sys.exit(main())
