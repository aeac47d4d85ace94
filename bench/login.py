"""Login latency through the identity Lambda handler, beside a raw argon2id hash.

Runs against moto in-process. Prints the median of N logins (default 50) made
through the handler with API Gateway HTTP API v2 events, and the median of N
raw ``argon2-cffi`` hashes with the same parameters, measured in the same run.

    PYTHONPATH=layers/outreach/python:infra/local .venv/bin/python bench/login.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]  # the project root: bench._setup


def main() -> None:  # noqa: PLR0915 - one linear measurement script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    from bench._setup import use_bench_environment

    use_bench_environment()  # before any project module is imported
    import warnings

    import boto3
    from argon2 import PasswordHasher
    from bench._steps import PASSWORD, register
    from moto import mock_aws
    from tests.support.api import http_event

    from outreach.config import get_settings
    from outreach.data.models import CounterModel
    from outreach.identity.passwords import (
        ARGON2_MEMORY_KIB,
        ARGON2_PARALLELISM,
        ARGON2_TIME_COST,
    )
    from outreach_local.runtime import LocalLambdaContext, load_function
    from outreach_local.template import create_tables

    get_settings.cache_clear()
    from outreach.observability import logger

    logger.setLevel("ERROR")
    warnings.simplefilter("ignore")
    password = PASSWORD
    with mock_aws():
        create_tables(boto3.client("dynamodb", region_name="us-east-1"), "bench-")
        handler = load_function("identity").handler
        context = LocalLambdaContext(function_name="identity")
        register(handler, context, "bench@acme.test", "Bench Co", full_name="Bench")
        login_event = http_event(
            "POST", "/v1/auth/login", body={"email": "bench@acme.test", "password": password}
        )
        hasher = PasswordHasher(
            time_cost=ARGON2_TIME_COST,
            memory_cost=ARGON2_MEMORY_KIB,
            parallelism=ARGON2_PARALLELISM,
        )
        wrong_event = http_event(
            "POST", "/v1/auth/login", body={"email": "bench@acme.test", "password": "wrong pass 1"}
        )
        unknown_event = http_event(
            "POST", "/v1/auth/login", body={"email": "nobody@acme.test", "password": "wrong pass 1"}
        )
        logins: list[float] = []
        hashes: list[float] = []
        wrong: list[float] = []
        unknown: list[float] = []
        for index in range(args.runs):
            # Failures are timed in fresh windows (the 6th in 15 minutes would be a 429).
            if index % 4 == 0:
                for email in ("bench@acme.test", "nobody@acme.test"):
                    CounterModel(f"login#{email}").delete()
            start = time.perf_counter()
            assert handler(wrong_event, context)["statusCode"] == 401
            wrong.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            assert handler(unknown_event, context)["statusCode"] == 401
            unknown.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            response = handler(login_event, context)
            logins.append((time.perf_counter() - start) * 1000)
            assert response["statusCode"] == 200, json.dumps(response)
            start = time.perf_counter()
            hasher.hash(password)
            hashes.append((time.perf_counter() - start) * 1000)

    login_ms = statistics.median(logins)
    hash_ms = statistics.median(hashes)
    parameters = f"m={ARGON2_MEMORY_KIB} KiB, t={ARGON2_TIME_COST}, p={ARGON2_PARALLELISM}"
    print(f"argon2id {parameters}; {args.runs} runs")
    print(f"{'what':<34}{'median ms':>10}{'min ms':>9}")
    print(f"{'login through the handler':<34}{login_ms:>10.1f}{min(logins):>9.1f}")
    print(f"{'raw argon2-cffi hash':<34}{hash_ms:>10.1f}{min(hashes):>9.1f}")
    print(f"{'wrong password (401)':<34}{statistics.median(wrong):>10.1f}{min(wrong):>9.1f}")
    print(f"{'unknown email (401)':<34}{statistics.median(unknown):>10.1f}{min(unknown):>9.1f}")
    print(f"ratio login / raw hash: {login_ms / hash_ms:.2f}")
    timing_ratio = statistics.median(unknown) / statistics.median(wrong)
    print(f"ratio unknown email / wrong password: {timing_ratio:.2f}")


if __name__ == "__main__":
    main()
