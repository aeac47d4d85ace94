"""Import jobs (issue 17, point 6): a large upload through the local stack, and its memory.

The embedded AWS of ``make dev`` (a moto server on loopback: DynamoDB and S3 over HTTP,
started by ``outreach_local.server.prepare_environment``, tables and bucket included)
serves both parts.

1. **Upload -> done.** An owner registers (identity handler); each run creates a job with
   the import service (``POST /v1/imports``'s), posts a generated ``--rows``-row CSV to its
   presigned form with ``requests`` as a client does, and runs the upload as the local
   stack's ``UploadWatcher`` does (``poll_once``: the imports handler, called with S3's
   EventBridge event). Timed from the upload's first byte to the job read back ``done``.
   Then the items the job wrote (contacts, phone guards, tag memberships: every item of
   its ``BatchWriteItem`` calls, recorded as sent; reading them back is slow on moto,
   whose ``Query`` sorts the whole partition for every page) are written into fresh
   tables with a raw ``BatchWriteItem`` loop on the same server, in the same run. Each
   run is a new organization (both table sets grow alike); the medians of ``--runs`` runs
   are compared. Goal: job / raw <= 2.0.
   The jobs' AWS calls are timed by operation; when the ratio misses, one more job (of
   at most :data:`PROFILED_ROWS` rows) runs under cProfile and its ten costliest
   functions are printed.
2. **Peak memory.** One more job of the same file, its handler run in a fresh child
   process (``python -I``, the bench environment, nothing loaded but the imports
   function); the child reports its peak resident set (``VmHWM``, see :data:`CHILD`).
   Goal: <= 256 MB (the file is streamed, never read whole).

    PYTHONPATH=layers/outreach/python:infra/local .venv/bin/python bench/imports.py
    ... bench/imports.py --rows 100000 --runs 1      # one quick run
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]  # the project root: bench._setup

RATIO_GOAL = 2.0
PROJECT_MARKER = "layers/outreach/python/"
PROFILED_ROWS = 20_000
"""Rows of the job profiled when the ratio misses (cProfile doubles a job's time, and
its per-row costs are the same at any size: the calls above show where growth would be)."""
MEMORY_GOAL_MB = 256.0
# 25 area codes x the 10,000 lines of the 555 exchange: distinct 555 numbers for up to
# 250,000 rows (a job's limit).
AREA_CODES = (
    "617",
    "508",
    "781",
    "978",
    "413",
    "212",
    "718",
    "646",
    "202",
    "305",
    "312",
    "415",
    "503",
    "206",
    "303",
    "404",
    "512",
    "602",
    "702",
    "713",
    "214",
    "615",
    "919",
    "704",
    "801",
)
FIRST_NAMES = ("Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ida", "Jo")
TAGS = ("leads", "customers", "leads;spring", "")
COLORS = ("blue", "green", "red", "")

# Runs the imports function once in a fresh interpreter (``python -I``: no site
# directories, no PYTHON* variables); argv[1] is the event as JSON, argv[2] the paths,
# argv[3] (optional) a file to write the run's cProfile statistics to.
# Prints a JSON line: the resident set's high-water mark after loading the function and
# after the run, in KiB. Read from /proc/self/status (VmHWM, this program's own memory):
# on Linux ``ru_maxrss`` keeps the high-water mark of the process before its exec, i.e.
# of the forked copy of the bench (its moto server, its CSV), which is not the function's.
CHILD = """
import json, resource, sys
sys.path[:0] = json.loads(sys.argv[2])

def high_water_kib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

from outreach_local.runtime import LocalLambdaContext, load_function
handler = load_function("imports").handler
loaded = high_water_kib()
context = LocalLambdaContext(function_name="imports", memory_limit_in_mb=512,
                             timeout_millis=900_000)
event = json.loads(sys.argv[1])
if len(sys.argv) > 3:  # profile the run into the file argv[3]
    import cProfile
    profiler = cProfile.Profile()
    outcome = profiler.runcall(handler, event, context)
    profiler.dump_stats(sys.argv[3])
else:
    outcome = handler(event, context)
print(json.dumps({"outcome": outcome, "loaded_kib": loaded, "peak_kib": high_water_kib(),
                  "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def generate_csv(rows: int, seed: int = 17) -> bytes:
    """A CRM-like export of ``rows`` distinct made-up people: names, a mobile number in
    mixed formats (all ``555`` numbers), email, tags and three extra columns."""
    if rows > len(AREA_CODES) * 10_000:
        raise ValueError(f"at most {len(AREA_CODES) * 10_000:,} distinct 555 numbers")
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("First Name,Last Name,Mobile Phone,Email,Company,City,Favorite Color,Tags\r\n")
    for index in range(rows):
        area, line = AREA_CODES[index // 10_000], index % 10_000
        phone = rng.choice(
            (f"({area}) 555-{line:04d}", f"{area}555{line:04d}", f"+1 {area} 555 {line:04d}")
        )
        name = rng.choice(FIRST_NAMES)
        out.write(
            f'{name},Stone{index},"{phone}",{name.lower()}{index}@example.com,'
            f"Acme {index % 97},Springfield,{rng.choice(COLORS)},{rng.choice(TAGS)}\r\n"
        )
    return out.getvalue().encode()


@dataclass
class Run:
    """One run's figures: the job (upload -> done) and the raw writes of its items."""

    job_s: float
    raw_s: float
    items: dict[str, int]
    calls: int


def main() -> None:  # noqa: PLR0915 - one linear measurement script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000, help="data rows of the CSV")
    parser.add_argument("--runs", type=int, default=3, help="runs of part 1 (median)")
    args = parser.parse_args()
    if args.rows < 1 or args.runs < 1:
        parser.error("--rows and --runs must be at least 1")

    from bench._setup import PATHS, use_bench_environment

    use_bench_environment()  # before any project module is imported
    import logging
    import warnings

    import boto3
    import requests
    from bench._goals import verdict
    from bench._steps import PASSWORD, write_raw
    from tests.support.api import http_event

    from outreach.clock import SystemClock
    from outreach.config import get_settings
    from outreach.imports.domain import ImportStatus
    from outreach.imports.service import build_import_service
    from outreach.observability import logger
    from outreach_local.runtime import LocalLambdaContext, load_function
    from outreach_local.server import prepare_environment
    from outreach_local.template import create_tables
    from outreach_local.uploads import object_created_event

    logger.setLevel("ERROR")
    logging.getLogger("outreach").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")

    content = generate_csv(args.rows)
    environment = prepare_environment()  # the moto server, the tables and the bucket
    try:
        settings = get_settings()
        prefix = settings.table_prefix
        endpoint = environment.s3_endpoint
        dynamodb = boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=endpoint)
        s3 = boto3.client("s3", region_name=settings.aws_region, endpoint_url=endpoint)
        identity = load_function("identity").handler
        context = LocalLambdaContext(function_name="identity")
        imports = build_import_service(SystemClock())
        watcher = environment.upload_watcher()  # not started: poll_once is called in line
        create_tables(dynamodb, "raw-")

        def owner(number: int) -> tuple[str, str]:
            """A new organization's (org_id, user_id)."""
            body = {
                "email": f"importer{number}@bench.test",
                "password": PASSWORD,
                "full_name": "B",
                "organization_name": f"Importer {number}",
            }
            answer = identity(http_event("POST", "/v1/auth/register", body=body), context)
            assert answer["statusCode"] == 201, answer
            user = json.loads(answer["body"])["user"]
            return str(user["organization_id"]), str(user["id"])

        def upload(org_id: str, user_id: str, body: bytes = content) -> tuple[str, str]:
            """Create a job and post ``body`` to its form; the job's (id, upload key)."""
            job, form = imports.create(org_id, user_id, tags=(), phone_column=None)
            posted = requests.post(
                form.url,
                data=form.fields,
                files={"file": ("contacts.csv", body, "text/csv")},
                timeout=300,
            )
            assert posted.status_code == 204, posted.text
            return job.id, job.upload_key

        def finished(org_id: str, import_id: str) -> None:
            view = imports.get(org_id, import_id)
            assert view.status is ImportStatus.DONE, (view.status, view.failure)
            assert view.job.created == args.rows and view.job.error_count == 0, view.job

        def measured_run(number: int) -> Run:
            org_id, user_id = owner(number)
            start = time.perf_counter()
            import_id, _key = upload(org_id, user_id)
            written: dict[str, list[dict[str, Any]]] = defaultdict(list)
            with aws_calls.recording(written), contextlib.redirect_stdout(io.StringIO()):
                assert watcher.poll_once() == 1  # (the handler prints its metrics line)
            finished(org_id, import_id)
            job_s = time.perf_counter() - start
            stored = {t.removeprefix(prefix): written[t] for t in sorted(written)}
            assert set(stored) == {"contacts", "contact_phones", "contact_tags"}, set(stored)
            start = time.perf_counter()
            calls = sum(write_raw(dynamodb, f"raw-{t}", items) for t, items in stored.items())
            raw_s = time.perf_counter() - start
            return Run(job_s, raw_s, {t: len(items) for t, items in stored.items()}, calls)

        aws_calls = CallTimes()

        runs: list[Run] = []
        for number in range(args.runs):
            runs.append(measured_run(number))
            run = runs[-1]
            print(
                f"  run {number + 1}: job {run.job_s:7.2f} s, raw {run.raw_s:7.2f} s, "
                f"ratio {run.job_s / run.raw_s:5.2f}",
                flush=True,
            )
        job_s = statistics.median(r.job_s for r in runs)
        raw_s = statistics.median(r.raw_s for r in runs)
        ratio = job_s / raw_s

        profile_lines: list[str] = []
        project_lines: list[str] = []
        profiled_rows = min(args.rows, PROFILED_ROWS)

        def arrival(key: str) -> dict[str, Any]:
            """The event S3 sends once ``key`` landed (as the watcher makes it)."""
            head = s3.head_object(Bucket=environment.imports_bucket, Key=key)
            return object_created_event(
                environment.imports_bucket,
                key,
                int(head["ContentLength"]),
                str(head["ETag"]).strip('"'),
                region=settings.aws_region,
            )

        paths = [str(path) for path in PATHS]
        if ratio > RATIO_GOAL:
            # In a child process: Python 3.12's cProfile would mix in the server's threads.
            org_id, user_id = owner(args.runs)
            _import_id, key = upload(org_id, user_id, generate_csv(profiled_rows, seed=18))
            with tempfile.TemporaryDirectory() as folder:
                stats_path = Path(folder) / "job.prof"
                child_run(arrival(key), paths, profile_to=stats_path)
                stats = pstats.Stats(str(stats_path))
            profile_lines = top_functions(stats, 10)
            project_lines = top_functions(stats, 10, project_only=True)

        # 2. Peak memory of the imports function, in a child process of its own.
        org_id, user_id = owner(args.runs + 1)
        import_id, key = upload(org_id, user_id)
        child = child_run(arrival(key), paths)
        finished(org_id, import_id)
    finally:
        environment.stop()

    items = runs[0].items
    per_table = ", ".join(f"{table} {count:,}" for table, count in items.items())
    print(f"import job of {args.rows:,} rows through the local stack's embedded AWS")
    print(f"  file: {len(content):,} bytes ({len(content) / 2**20:.1f} MiB)")
    print(f"  items stored per run: {sum(items.values()):,} ({per_table})")
    print(f"  median of {args.runs} run(s):")
    print(f"  job, upload -> done      {job_s:8.2f} s   ({args.rows / job_s:,.0f} rows/s)")
    print(f"  raw BatchWriteItem       {raw_s:8.2f} s   ({runs[0].calls:,} calls)")
    print(f"  ratio job / raw          {ratio:8.2f}   {verdict(ratio, RATIO_GOAL, 'x')}")
    print(
        f"  the jobs' AWS calls (all {args.runs} run(s), {aws_calls.seconds_total():.1f} s of the "
        f"{sum(r.job_s for r in runs):.1f} s; the rest is the upload and local work):"
    )
    print("\n".join(f"    {line}" for line in aws_calls.lines()))
    if profile_lines:
        print(
            f"  where a job's time goes (one more job of {profiled_rows:,} rows under cProfile, "
            "in a child process; waits for the embedded AWS are socket reads), top 10 by own time:"
        )
        print("\n".join(f"    {line}" for line in profile_lines))
        print("  and the project's own functions, top 10 by cumulative time:")
        print("\n".join(f"    {line}" for line in project_lines))
    peak_mb = child["peak_kib"] / 1024
    print(f"peak memory of the imports function on the {len(content) / 2**20:.1f} MiB file")
    print(f"  after loading the function {child['loaded_kib'] / 1024:8.1f} MB")
    memory_verdict = verdict(peak_mb, MEMORY_GOAL_MB, " MB")
    print(f"  peak during the run        {peak_mb:8.1f} MB   {memory_verdict}")
    print(
        f"  (ru_maxrss said {child['ru_maxrss_kib'] / 1024:.1f} MB: the forked bench's own "
        "high-water mark before the exec)"
    )
    print(f"  (outcome: {child['outcome']})")


class CallTimes:
    """Seconds and calls per AWS operation made while :meth:`recording` (botocore's
    ``BaseClient._make_api_call`` wrapped; the calls of this process, every thread)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)

    @contextlib.contextmanager
    def recording(self, written: dict[str, list[dict[str, Any]]]) -> Iterator[None]:
        """Time the calls; put every item a ``BatchWriteItem`` writes in ``written[table]``."""
        from botocore.client import BaseClient

        original = BaseClient._make_api_call  # type: ignore[attr-defined]
        calls, seconds = self.calls, self.seconds

        def timed(client: Any, operation: str, params: Any) -> Any:
            if operation == "BatchWriteItem":
                for table, requests in params["RequestItems"].items():
                    written[table].extend(r["PutRequest"]["Item"] for r in requests)
            start = time.perf_counter()
            try:
                return original(client, operation, params)
            finally:
                calls[operation] += 1
                seconds[operation] += time.perf_counter() - start

        BaseClient._make_api_call = timed  # type: ignore[attr-defined]
        try:
            yield
        finally:
            BaseClient._make_api_call = original  # type: ignore[attr-defined]

    def seconds_total(self) -> float:
        return sum(self.seconds.values())

    def lines(self) -> list[str]:
        """``operation  calls  seconds  ms per call``, the costliest first."""
        return [
            f"{operation:<18} {self.calls[operation]:>8,} calls {spent:9.2f} s "
            f"{spent / self.calls[operation] * 1000:7.2f} ms/call"
            for operation, spent in sorted(self.seconds.items(), key=lambda x: -x[1])
        ]


def child_run(
    event: dict[str, Any], paths: list[str], *, profile_to: Path | None = None
) -> dict[str, Any]:
    """Run the imports handler on ``event`` in ``python -I`` with this process's environment
    (the bench's, with the embedded AWS's endpoints) and ``paths`` first on ``sys.path``;
    its JSON report (:data:`CHILD`). ``profile_to``: where the run's cProfile statistics
    go (the run is then slower: its memory is not the function's)."""
    extra = [str(profile_to)] if profile_to is not None else []
    done = subprocess.run(
        [sys.executable, "-I", "-c", CHILD, json.dumps(event), json.dumps(paths), *extra],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the imports function's child failed:\n{done.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def top_functions(stats: pstats.Stats, count: int, *, project_only: bool = False) -> list[str]:
    """The ``count`` functions with the most own time (``project_only``: of the
    ``outreach`` package and the imports function, by cumulative time), one line each:
    ``own s, cumulative s, calls, where``."""
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    if project_only:
        chosen = [
            e for e in entries.items() if PROJECT_MARKER in e[0][0] or "functions/" in e[0][0]
        ]
        ranked = sorted(chosen, key=lambda entry: entry[1][3], reverse=True)[:count]
    else:
        ranked = sorted(entries.items(), key=lambda entry: entry[1][2], reverse=True)[:count]
    lines = []
    for (filename, line, name), (_prim, calls, own, cumulative, _callers) in ranked:
        where = f"{short_path(filename)}:{line}({name})"
        lines.append(f"{own:7.2f} s own {cumulative:7.2f} s cum {calls:>9,} calls  {where}")
    return lines


def short_path(filename: str) -> str:
    """A profiled file's path from its package (``botocore/parsers.py``), not the venv's."""
    for marker in ("site-packages/", PROJECT_MARKER, "infra/local/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


if __name__ == "__main__":
    main()
