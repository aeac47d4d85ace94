"""Load every built function as Lambda loads it, and answer its sample events (after `sam build`).

For each ``AWS::Serverless::Function`` of template.yaml, a fresh interpreter
(``-I -S -B``: no site-packages, no .venv, no bytecode written, as on Lambda's
read-only ``/opt``) gets on its path only what Lambda would give it:
``.aws-sam/build/<Function>`` (``/var/task``) and ``.aws-sam/build/<Layer>/python``
of each of its layers (``/opt/python``). Its environment is the template's
(Globals plus the function's own variables; references to other resources become
local values). It imports the handler, then, with moto appended *after* the
layers, answers each of its sample events from infra/events/. It fails when:

- the handler cannot be imported, raises, or answers an API event with a 5xx
  (a 401 from an authenticated route is an answer) or reports failed batch items;
- a module from a layer is compiled at run time (no usable ``.pyc``), or a
  layer's ``.pyc`` is not an unchecked-hash one (zip extraction keeps no mtimes);
- the function imports anything from outside the build (except moto's own);
- a sample event fits no function, or a function has no sample event (an EventBridge
  event fits the functions whose EventBridgeRule pattern matches it);
- a function with its layers exceeds Lambda's 250 MB unzipped.

On a host whose architecture differs from the layers' (arm64 wheels on x86), a
hard-linked copy of the layer is used with each foreign native extension swapped
for the host's build of the same distribution and version from .venv.

Usage: ``python infra/lambda_load.py [--jobs N]`` (``make deploy-check`` runs it).
"""

# The child imports only the stdlib until its function is loaded, then moto: imports are late.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = REPO_ROOT / ".aws-sam/build"
EVENTS_DIR = REPO_ROOT / "infra/events"
LOAD_DIR = REPO_ROOT / ".aws-sam/lambda-load"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
# The sample events name the resources of a stack called outreach-dev.
STACK_NAME = "outreach-dev"
REGION = "us-east-1"
ACCOUNT = "123456789012"

# Which sample events (by file name prefix) a function answers, by its event source type.
# EventBridge events are not told by their file name: each rule takes those its pattern
# matches (``imports-upload.json``, S3's "Object Created" of an upload).
EVENT_PREFIXES = {
    "SQS": "sqs-",
    "ScheduleV2": "scheduler-",
    "SNS": "sns-",
    "DynamoDB": "dynamodb-",
    "HttpApi": "api-",
    "EventBridgeRule": "",
}
# CloudFormation names a bucket without a BucketName ``<stack>-<logical id>-<12 random
# characters>``, in lower case; the sample events name it with this stand-in for the random part.
BUCKET_SUFFIX = "1x2y3z4a5b6c"
ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64"}
# The signing key the child's Secrets Manager (moto) holds: a local stand-in, not a secret.
LOCAL_SIGNING_KEY = "local-signing-key-" + "x" * 40


# --- The template ---------------------------------------------------------------------


class Resolver:
    """Gives a template value its local meaning (parameter defaults, local resource values)."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.parameters = {
            name: ",".join(p["Default"]) if isinstance(p.get("Default"), list) else p.get("Default")
            for name, p in template.get("Parameters", {}).items()
        }
        # Imported here, not at the top: the child runs this file too, stdlib only, and
        # main() (or the caller, e.g. the tests) has put infra/local on the path.
        from outreach_local.cfn import Conditions

        self.conditions = Conditions(template.get("Conditions", {}), self.resolve)
        self.resources: dict[str, Any] = template["Resources"]
        self.pseudo = {
            "AWS::StackName": STACK_NAME,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        # Resources the child creates in moto: env var name -> (type, logical id, name).
        self.created: dict[str, tuple[str, str, str]] = {}

    def condition(self, name: str) -> bool:
        return self.conditions.condition(name)

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return str(self.parameters[name] or "")
        kind = self.resources[name]["Type"]
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self.physical_name(name)}"
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{self.physical_name(name)}"
        if kind == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}"
        if kind == "AWS::S3::Bucket":
            return self.physical_name(name)
        return f"local-{name}"

    def physical_name(self, logical: str) -> str:
        """The resource's name: its own (resolved), else CloudFormation's <stack>-<logical id>
        (for a bucket, in lower case and with :data:`BUCKET_SUFFIX`)."""
        props = self.resources[logical].get("Properties", {})
        for key in ("QueueName", "TopicName", "TableName", "BucketName"):
            if key in props:
                return str(self.resolve(props[key]))
        if self.resources[logical]["Type"] == "AWS::S3::Bucket":
            return f"{STACK_NAME}-{logical}-{BUCKET_SUFFIX}".lower()
        return f"{STACK_NAME}-{logical}"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str | int | float | bool) or value is None:
            return value
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        ((key, arg),) = value.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::If":
            return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
        if key == "Fn::GetAtt":
            return f"local-{arg[0]}-{arg[1]}"
        if key == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

            def sub(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in extra:
                    return str(self.resolve(extra[name]))
                if "." in name:
                    return f"local-{name.replace('.', '-')}"
                return self.ref(name)

            return re.sub(r"\$\{([^}!]+)\}", sub, text)
        raise ValueError(f"cannot resolve {value!r} locally")

    def resolve_tree(self, value: Any) -> Any:
        """``value`` with every intrinsic in it resolved (mappings and lists walked)."""
        if isinstance(value, list):
            return [self.resolve_tree(v) for v in value]
        if isinstance(value, dict):
            if len(value) == 1 and next(iter(value)) in ("Ref", "Fn::If", "Fn::GetAtt", "Fn::Sub"):
                return self.resolve(value)
            return {k: self.resolve_tree(v) for k, v in value.items()}
        return value

    def environment(self, globals_vars: dict[str, Any], own: dict[str, Any]) -> dict[str, str]:
        env = {}
        for name, value in {**globals_vars, **own}.items():
            env[name] = str(self.resolve(value))
            if isinstance(value, dict) and value.get("Ref") in self.resources:
                logical = value["Ref"]
                kind = self.resources[logical]["Type"]
                self.created[name] = (kind, logical, env[name])
        return env


@dataclass
class Target:
    logical_id: str
    handler: str
    layers: list[str]
    env: dict[str, str]
    created: dict[str, tuple[str, str, str]]
    events: list[str] = field(default_factory=list)


def targets(template: dict[str, Any]) -> list[Target]:
    """Every function of the template with its layers, environment and sample events."""
    resolver = Resolver(template)
    glob = template.get("Globals", {}).get("Function", {})
    global_vars = glob.get("Environment", {}).get("Variables", {})
    events = sorted(p.name for p in EVENTS_DIR.glob("*.json"))
    used: set[str] = set()
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        resolver.created = {}
        own = props.get("Environment", {}).get("Variables", {})
        env = resolver.environment(global_vars, own)
        layers = [layer["Ref"] for layer in props.get("Layers", glob.get("Layers", []))]
        target = Target(logical_id, props["Handler"], layers, env, dict(resolver.created))
        for source in props.get("Events", {}).values():
            prefix = EVENT_PREFIXES.get(source["Type"])
            if prefix is None:
                raise SystemExit(f"{logical_id}: no sample-event rule for {source['Type']} events")
            for name in events:
                if name.startswith(prefix) and name not in target.events:
                    if prefix == "api-" and not serves(source, name):
                        continue
                    if prefix == "sqs-" and not from_queue(resolver, source, name):
                        continue
                    if prefix == "dynamodb-" and not from_stream(resolver, source, name):
                        continue
                    if source["Type"] == "EventBridgeRule" and not rule_matches(
                        resolver, source, name
                    ):
                        continue
                    target.events.append(name)
        if not target.events:
            raise SystemExit(f"{logical_id}: no sample event in infra/events/ for it")
        used.update(target.events)
        found.append(target)
    unused = sorted(set(events) - used)
    if unused:
        raise SystemExit(f"sample events no function receives: {unused}")
    return found


def from_queue(resolver: Resolver, source: dict[str, Any], event_name: str) -> bool:
    """Whether a sample SQS event comes from the queue of this SQS event source."""
    records = json.loads((EVENTS_DIR / event_name).read_text()).get("Records", [])
    queue = source["Properties"]["Queue"]
    logical = queue["Fn::GetAtt"][0] if isinstance(queue, dict) else None
    if not records or logical is None:
        return False
    name = resolver.physical_name(logical)
    return bool(str(records[0].get("eventSourceARN", "")).rsplit(":", 1)[-1].startswith(name))


def from_stream(resolver: Resolver, source: dict[str, Any], event_name: str) -> bool:
    """Whether a sample DynamoDB stream event comes from the table this source streams:
    its records' ``eventSourceARN`` names ``table/<physical name>``."""
    records = json.loads((EVENTS_DIR / event_name).read_text()).get("Records", [])
    stream = source["Properties"]["Stream"]
    logical = stream["Fn::GetAtt"][0] if isinstance(stream, dict) else None
    if not records or logical is None:
        return False
    table = str(records[0].get("eventSourceARN", "")).split(":table/", 1)[-1].split("/", 1)[0]
    return table == resolver.physical_name(logical)


def rule_matches(resolver: Resolver, source: dict[str, Any], event_name: str) -> bool:
    """Whether an EventBridgeRule event source's pattern matches the sample event."""
    event = json.loads((EVENTS_DIR / event_name).read_text())
    if not {"source", "detail-type", "detail"} <= set(event):
        return False  # not an EventBridge event
    return pattern_matches(resolver.resolve_tree(source["Properties"]["Pattern"]), event)


def pattern_matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge's content filtering, as far as the template's rules use it: every field
    the pattern names is in the event and matches one of its values (an exact value or
    ``{"prefix": ...}``; a list in the event matches when one of its items does). Any
    other filter (``anything-but``, ``numeric``, ...) is refused rather than guessed."""
    for key, wanted in pattern.items():
        if key not in event:
            return False
        value = event[key]
        if isinstance(wanted, dict):
            if not isinstance(value, dict) or not pattern_matches(wanted, value):
                return False
            continue
        values = value if isinstance(value, list) else [value]
        if not any(_filter_matches(item, v) for item in wanted for v in values):
            return False
    return True


def _filter_matches(item: Any, value: Any) -> bool:
    if not isinstance(item, dict):
        return bool(item == value)
    ((operator, operand),) = item.items()
    if operator == "prefix":
        return isinstance(value, str) and value.startswith(operand)
    raise SystemExit(f"EventBridge filter {operator!r}: not understood by infra/lambda_load.py")


def serves(source: dict[str, Any], event_name: str) -> bool:
    """Whether an HttpApi event source routes the sample API event's path to its function."""
    path = json.loads((EVENTS_DIR / event_name).read_text())["rawPath"]
    route = source["Properties"]["Path"]
    if route.endswith("/{proxy+}"):
        return bool(path.startswith(route.removesuffix("{proxy+}")))
    return bool(path == route)


# --- Layers for this host ----------------------------------------------------------------


def elf_machine(path: Path) -> str | None:
    with path.open("rb") as handle:
        header = handle.read(20)
    if header[:4] != b"\x7fELF":
        return None
    return ELF_MACHINES.get(int.from_bytes(header[18:20], "little"), "other")


def host_machine() -> str:
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(os.uname().machine, os.uname().machine)


def dist_versions(site: Path) -> dict[str, tuple[str, Path]]:
    """Distribution name (normalized) -> (version, dist-info folder)."""
    found = {}
    for info in site.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        found[re.sub(r"[-_.]+", "_", name).lower()] = (version, info)
    return found


def owner(site: Path, relative: str) -> str:
    for name, (_, info) in dist_versions(site).items():
        record = info / "RECORD"
        if record.exists() and any(
            line.split(",", 1)[0] == relative for line in record.read_text().splitlines()
        ):
            return name
    raise SystemExit(f"no distribution in {site} owns {relative}")


def layer_for_host(layer_python: Path, venv_site: Path) -> Path:
    """The layer itself, or a hard-linked copy with foreign native extensions swapped."""
    machine = host_machine()
    foreign = [
        so
        for so in layer_python.rglob("*.so")
        if elf_machine(so) not in (None, machine) and "__pycache__" not in so.parts
    ]
    if not foreign:
        return layer_python
    copy = LOAD_DIR / f"{layer_python.parent.name}-{machine}" / "python"
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(layer_python, copy, copy_function=os.link)
    ours, venvs = dist_versions(layer_python), dist_versions(venv_site)
    for so in foreign:
        relative = so.relative_to(layer_python).as_posix()
        dist = owner(layer_python, relative)
        if venvs.get(dist, ("",))[0] != ours[dist][0]:
            raise SystemExit(
                f"{relative}: built for {elf_machine(so)}; .venv has no {dist}=={ours[dist][0]}"
                f" for {machine} to stand in for it"
            )
        stem = so.name.split(".", 1)[0]
        folder = (venv_site / relative).parent
        matches = [p for p in folder.glob(f"{stem}.*.so") if elf_machine(p) == machine]
        if len(matches) != 1:
            raise SystemExit(f"{relative}: no single {machine} build of it in {folder}")
        (copy / relative).unlink()
        shutil.copy2(matches[0], copy / Path(relative).parent / matches[0].name)
    return copy


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def venv_site() -> Path:
    """This interpreter's site-packages (.venv): moto, and native builds for this host."""
    return Path(next(p for p in sys.path if p.endswith("site-packages")))


BOTOCORE_SERVICES_FILE = REPO_ROOT / "layers/dependencies/botocore-services.txt"


def botocore_services() -> set[str]:
    """The services whose botocore data the dependencies layer keeps (its build prunes
    the rest: layers/dependencies/botocore-services.txt)."""
    lines = BOTOCORE_SERVICES_FILE.read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def check_botocore_data(layer: str, layer_python: Path) -> None:
    """Exit unless a layer shipping botocore holds the data of exactly the listed services."""
    data = layer_python / "botocore" / "data"
    if not data.is_dir():
        return
    shipped = {p.name for p in data.iterdir() if p.is_dir()}
    wanted = botocore_services()
    if shipped != wanted:
        raise SystemExit(
            f"{layer}: botocore/data holds {sorted(shipped - wanted)[:5]} beyond"
            f" {BOTOCORE_SERVICES_FILE.name} and lacks {sorted(wanted - shipped)}"
            " (layers/dependencies/Makefile prunes it)"
        )


def prepare_layers(names: set[str]) -> dict[str, Path]:
    """Each built layer's ``python`` folder as this host can load it; records layer_sizes."""
    site = venv_site()
    layer_dirs = {}
    for layer in sorted(names):
        built = BUILD_DIR / layer / "python"
        if not built.is_dir():
            raise SystemExit(
                f"{layer}: no {built.relative_to(REPO_ROOT)} (layer not at /opt/python)"
            )
        if (built / "python").exists():
            raise SystemExit(f"{layer}: built as /opt/python/python/... (Lambda won't find it)")
        check_botocore_data(layer, built)
        layer_sizes[layer] = tree_size(BUILD_DIR / layer)
        layer_dirs[layer] = layer_for_host(built, site)
    return layer_dirs


def create_resources(
    client: Callable[[str], Any],
    tables: list[dict[str, Any]],
    created: dict[str, tuple[str, str, str]],
) -> dict[str, str]:
    """Create the tables and a function's own resources in moto; the env values they change."""
    dynamodb = client("dynamodb")
    for request in tables:
        dynamodb.create_table(**request)
    env = {}
    for name, (kind, logical, value) in created.items():
        if kind == "AWS::SecretsManager::Secret":
            secrets = client("secretsmanager")
            arn = secrets.create_secret(Name=logical, SecretString=LOCAL_SIGNING_KEY)
            env[name] = str(arn["ARN"])
        elif kind == "AWS::SQS::Queue":
            queue = value.rsplit("/", 1)[1]
            sqs = client("sqs")
            if queue.endswith(".fifo"):
                sqs.create_queue(QueueName=queue, Attributes={"FifoQueue": "true"})
            else:
                sqs.create_queue(QueueName=queue)
        elif kind == "AWS::S3::Bucket":
            client("s3").create_bucket(Bucket=value)
    return env


# --- The parent: one fresh interpreter per function -----------------------------------------


def lambda_environment(target: Target, task: Path) -> dict[str, str]:
    base = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(task),
        "LAMBDA_RUNTIME_DIR": str(task),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": f"{STACK_NAME}-{target.logical_id}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{target.logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        # Active tracing, as the template asks (Tracing: Active): Lambda passes the trace
        # header and the daemon's address (whatever reads them sees what it would there;
        # a segment sent by UDP goes to a port nobody listens on).
        "_X_AMZN_TRACE_ID": (
            "Root=1-67890abc-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1"
        ),
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    }
    return {**base, **target.env}


def moto_closure() -> list[str]:
    """Top-level module names of moto and what it needs (allowed from .venv in the child)."""
    from importlib import metadata

    by_dist: dict[str, list[str]] = {}
    for top, dists in metadata.packages_distributions().items():
        for dist in dists:
            by_dist.setdefault(re.sub(r"[-_.]+", "-", dist).lower(), []).append(top)
    seen: set[str] = set()
    todo = ["moto"]
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.add(dist)
        try:
            requires = metadata.requires(dist) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            name = re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0]
            todo.append(re.sub(r"[-_.]+", "-", name).lower())
    return sorted({top for dist in seen for top in by_dist.get(dist, [])})


def run_child(
    script: str,
    spec: dict[str, Any],
    env: dict[str, str],
    timeout: float,
    *,
    options: Sequence[str] = (),
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None, float]:
    """Run ``script --child SPEC RESULT`` in a fresh isolated interpreter (``-I -S -B``: no
    user site, no site-packages, no bytecode written), as Lambda starts a function, with
    the interpreter's extra ``options`` (``["-X", "importtime"]``) if any.

    Returns the process, the result it wrote (``None`` if it wrote none) and the wall
    seconds; raises :class:`subprocess.TimeoutExpired` after ``timeout`` seconds.
    """
    with tempfile.TemporaryDirectory() as scratch:
        spec_path, result_path = Path(scratch, "spec.json"), Path(scratch, "result.json")
        spec_path.write_text(json.dumps(spec))
        started = time.perf_counter()
        proc = subprocess.run(  # noqa: S603 - this interpreter, a script of this project
            [
                sys.executable,
                "-I",
                "-S",
                "-B",
                *options,
                script,
                "--child",
                str(spec_path),
                str(result_path),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        wall = time.perf_counter() - started
        written: dict[str, Any] | None = (
            json.loads(result_path.read_text()) if result_path.exists() else None
        )
    return proc, written, wall


def run_target(
    target: Target, layer_dirs: dict[str, Path], tables: list[dict[str, Any]], allowed: list[str]
) -> dict[str, Any]:
    task = BUILD_DIR / target.logical_id
    spec = {
        "function": target.logical_id,
        "task": str(task),
        "layers": [str(layer_dirs[layer]) for layer in target.layers],
        "handler": target.handler,
        "events": [str(EVENTS_DIR / name) for name in target.events],
        "moto_site": str(venv_site()),
        "moto_modules": allowed,
        "tables": tables,
        "created": target.created,
    }
    proc, written, wall = run_child(__file__, spec, lambda_environment(target, task), 300)
    result: dict[str, Any] = written if written is not None else {"errors": []}
    if proc.returncode != 0 and not result.get("errors"):
        result.setdefault("errors", []).append(f"exited with {proc.returncode}")
    if result.get("errors"):
        result["output"] = (proc.stdout + proc.stderr)[-6000:]
    result["wall_s"] = wall
    size = tree_size(task) + sum(layer_sizes[layer] for layer in target.layers)
    result["size"] = size
    if size > LAMBDA_UNZIPPED_LIMIT:
        result.setdefault("errors", []).append(
            f"unzipped size {size / 2**20:.1f} MB exceeds Lambda's 250 MB"
        )
    return result


layer_sizes: dict[str, int] = {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=2, help="functions loaded at once")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT / "infra/local"))
    from outreach_local.template import create_table_requests, load_template

    if not BUILD_DIR.is_dir():
        raise SystemExit("no .aws-sam/build: run `sam build` (make deploy-check) first")
    template = load_template(REPO_ROOT / "template.yaml")
    found = targets(template)
    layer_dirs = prepare_layers({layer for t in found for layer in t.layers})
    # TABLE_PREFIX is ${AWS::StackName}- in the template's Globals.
    tables = create_table_requests(f"{STACK_NAME}-", template)
    allowed = moto_closure()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda t: run_target(t, layer_dirs, tables, allowed), found))
    out = sys.stdout
    out.write(
        f"{'function':<22} {'import':>8} {'1st event':>10} {'modules':>8} {'size MB':>8}  events\n"
    )
    failed = False
    for target, result in zip(found, results, strict=True):
        out.write(
            f"{target.logical_id:<22} {result.get('import_s', 0):>7.2f}s"
            f" {result.get('first_event_s', 0):>9.2f}s {result.get('layer_modules', 0):>8}"
            f" {result['size'] / 2**20:>8.1f}  {', '.join(result.get('answers', []))}\n"
        )
        for error in result.get("errors", []):
            failed = True
            out.write(f"  FAILED: {error}\n")
        if result.get("errors") and result.get("output"):
            out.write("  --- output ---\n" + result["output"] + "\n")
    out.write(
        "import/1st event: seconds in a fresh interpreter, no bytecode written;"
        f" modules: loaded from layers (all from .pyc); size: function + layers,"
        f" unzipped, limit {LAMBDA_UNZIPPED_LIMIT / 2**20:.0f} MB\n"
    )
    if failed:
        out.write("lambda-like load FAILED\n")
        return 1
    return 0


# --- The child: runs in a fresh `-I -S -B` interpreter, stdlib only until moto -------------


def child(spec_path: str, result_path: str) -> None:  # noqa: PLR0912, PLR0915 - one story
    import importlib
    import importlib.util

    spec = json.loads(Path(spec_path).read_text())
    result: dict[str, Any] = {"errors": [], "answers": []}
    errors: list[str] = result["errors"]

    def save() -> None:
        Path(result_path).write_text(json.dumps(result))

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # -I: not on the path
    from infra import lambda_child

    sys.path.pop(0)
    compiled = lambda_child.record_compiles()
    layers = [str(Path(p).resolve()) for p in spec["layers"]]
    task = str(Path(spec["task"]).resolve())
    sys.path[:0] = [task, *layers]
    module_name, _, handler_name = spec["handler"].rpartition(".")
    try:
        started = time.perf_counter()
        module = importlib.import_module(module_name)
        handler = getattr(module, handler_name)
        result["import_s"] = time.perf_counter() - started
    except BaseException as exc:  # reported, then the process fails
        errors.append(f"import {spec['handler']}: {type(exc).__name__}: {exc}")
        save()
        raise
    stdlib = {p for p in sys.path if p not in (task, *layers)}
    outside = sorted(
        name
        for name, mod in list(sys.modules.items())
        if (file := getattr(mod, "__file__", None))
        and file not in (__file__, lambda_child.__file__)  # this harness (as __main__ too)
        and not any(file.startswith(root + os.sep) for root in (task, *layers))
        and not any(file.startswith(root) for root in stdlib if root)
    )
    if outside:
        errors.append(f"imported from outside the build: {outside[:10]}")
    before = set(sys.modules)

    # moto, after the layers: the function keeps resolving its imports from the build.
    sys.path.append(spec["moto_site"])
    from moto import mock_aws

    mock = mock_aws()
    mock.start()
    import boto3

    region = os.environ["AWS_REGION"]
    os.environ.update(
        create_resources(
            lambda service: boto3.client(service, region_name=region),  # type: ignore[call-overload]
            spec["tables"],
            spec["created"],
        )
    )

    for index, event_path in enumerate(spec["events"]):
        event = json.loads(Path(event_path).read_text())
        label = Path(event_path).stem
        try:
            started = time.perf_counter()
            answer = handler(event, lambda_child.LambdaContext(ACCOUNT))
            if index == 0:
                result["first_event_s"] = time.perf_counter() - started
        except BaseException as exc:  # reported as the function's failure
            errors.append(f"{label}: {type(exc).__name__}: {exc}")
            continue
        if isinstance(answer, dict) and "statusCode" in answer:
            result["answers"].append(f"{label}={answer['statusCode']}")
            if int(answer["statusCode"]) >= 500:
                errors.append(f"{label}: answered {answer['statusCode']}: {answer.get('body')}")
        else:
            result["answers"].append(f"{label}=ok")
            if isinstance(answer, dict) and answer.get("batchItemFailures"):
                errors.append(f"{label}: failed items {answer['batchItemFailures']}")
    mock.stop()

    # Zones: with the template's empty PYTHONTZPATH they come from the layers' tzdata
    # alone, never from this machine's /usr/share/zoneinfo (the runtime need not have one).
    import zoneinfo

    try:
        zoneinfo.ZoneInfo("America/New_York")
        tzdata = sys.modules.get("tzdata")
        where = getattr(tzdata, "__file__", None) or ""
        if os.environ.get("PYTHONTZPATH") == "" and not any(
            where.startswith(root + os.sep) for root in layers
        ):
            errors.append(f"time zones not read from the layers' tzdata (from {where!r})")
    except Exception as exc:  # reported as the function's failure
        errors.append(f"time zones: {type(exc).__name__}: {exc}")

    allowed = set(spec["moto_modules"])
    leaked = sorted(
        name
        for name in set(sys.modules) - before
        if (file := getattr(sys.modules[name], "__file__", None))
        and file.startswith(spec["moto_site"])
        and name.split(".", 1)[0] not in allowed
    )
    if leaked:
        errors.append(f"loaded from .venv, not the layers: {leaked[:10]}")
    in_layers = [
        mod
        for mod in list(sys.modules.values())
        if (file := getattr(mod, "__file__", None))
        and any(file.startswith(root + os.sep) for root in layers)
        and file.endswith(".py")
    ]
    result["layer_modules"] = len(in_layers)
    at_run_time = [path for path in compiled if any(path.startswith(r + os.sep) for r in layers)]
    if at_run_time:
        errors.append(f"{len(at_run_time)} layer modules compiled at run time: {at_run_time[:5]}")
    not_unchecked = []
    for mod in in_layers:
        cached = importlib.util.cache_from_source(str(mod.__file__))
        try:
            flags = int.from_bytes(Path(cached).read_bytes()[4:8], "little")
        except OSError:
            flags = -1
        if flags != 0b01:  # hash-based, source not checked
            not_unchecked.append(mod.__name__)
    if not_unchecked:
        errors.append(f"layer modules without unchecked-hash .pyc: {sorted(not_unchecked)[:5]}")
    save()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        sys.exit(0)
    sys.exit(main())
