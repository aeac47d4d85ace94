"""Contacts import and listing, through the contacts Lambda handler against moto.

1. Import a generated 10,000-row CSV through the handler; then write exactly the
   items it stored (contacts, phone guards, tag memberships, read back from the
   tables) into fresh tables with raw boto3 ``BatchWriteItem`` calls, in the
   same run. Goal: import / raw <= 2.0.
2. The first page of ``GET /v1/contacts`` (limit 50) in an organization of 100
   contacts and in one of 20,000. Goal: ratio <= 1.3.

    PYTHONPATH=layers/outreach/python:infra/local .venv/bin/python bench/contacts_import.py
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]  # the project root: bench._setup
FIRST_NAMES = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ida", "Jo"]


def generate_csv(rows: int, seed: int = 7) -> bytes:
    """A realistic export: name, phone in mixed formats, email, tags, two extra columns."""
    rng = random.Random(seed)
    lines = ["First Name,Last Name,Mobile,Email,Tags,Crack Location,Source"]
    for index in range(rows):
        area = rng.choice(["617", "508", "781", "978", "413"])
        # Exchanges 555, 556, ... keep every number valid (and distinct) at any size.
        exchange = 555 + index // 10000
        number = f"{area}{exchange}{index % 10000:04d}"
        phone = rng.choice(
            [f"({area}) 555-{index % 10000:04d}", number, f"+1 {area} 555 {index % 10000:04d}"]
        )
        if rows > 10000:
            phone = number
        name = rng.choice(FIRST_NAMES)
        lines.append(
            f'{name},Stone{index},"{phone}",{name.lower()}{index}@example.com,'
            f"{rng.choice(['leads', 'customers', 'leads;spring'])},"
            f"{rng.choice(['north', 'east', ''])} wall,web"
        )
    return ("\n".join(lines) + "\n").encode()


def main() -> None:  # noqa: PLR0915 - one linear measurement script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()

    from bench._setup import use_bench_environment

    use_bench_environment()  # before any project module is imported
    import warnings

    import boto3
    from bench._steps import PASSWORD, register, write_raw
    from moto import mock_aws
    from tests.support.api import http_event

    from outreach.config import get_settings
    from outreach.observability import logger
    from outreach_local.runtime import LocalLambdaContext, load_function
    from outreach_local.template import create_tables

    get_settings.cache_clear()
    logger.setLevel("ERROR")
    warnings.simplefilter("ignore")

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(dynamodb, "bench-")
        identity = load_function("identity").handler
        contacts = load_function("contacts").handler
        context = LocalLambdaContext(function_name="contacts")

        def account(email: str) -> dict[str, str]:
            register(identity, context, email, "B")
            login = {"email": email, "password": PASSWORD}
            token = __import__("json").loads(
                identity(http_event("POST", "/v1/auth/login", body=login), context)["body"]
            )["access_token"]
            return {"authorization": f"Bearer {token}"}

        def import_event(auth: dict[str, str], csv_body: bytes) -> dict[str, Any]:
            headers = {**auth, "content-type": "text/csv"}
            return http_event("POST", "/v1/contacts/import", raw_body=csv_body, headers=headers)

        # 1. Import through the handler.
        auth = account("importer@bench.test")
        event = import_event(auth, generate_csv(args.rows))
        start = time.perf_counter()
        response = contacts(event, context)
        import_s = time.perf_counter() - start
        result = __import__("json").loads(response["body"])
        assert response["statusCode"] == 200 and result["created"] == args.rows, result

        # The same items, written raw into fresh tables.
        stored: dict[str, list[dict[str, Any]]] = {}
        for table in ("contacts", "contact_phones", "contact_tags"):
            items: list[dict[str, Any]] = []
            for page in dynamodb.get_paginator("scan").paginate(TableName=f"bench-{table}"):
                items.extend(page["Items"])
            stored[table] = items
        create_tables(dynamodb, "raw-")
        start = time.perf_counter()
        calls = 0
        for table, items in stored.items():
            calls += write_raw(dynamodb, f"raw-{table}", items)
        raw_s = time.perf_counter() - start
        total_items = sum(len(items) for items in stored.values())

        # 2. First page with 100 vs many contacts.
        from botocore.client import BaseClient

        page_calls: list[str] = []
        original = BaseClient._make_api_call  # type: ignore[attr-defined]

        def counting(self: Any, operation: str, params: Any) -> Any:
            page_calls.append(operation)
            return original(self, operation, params)

        def first_page_ms(headers: dict[str, str]) -> tuple[float, list[str]]:
            list_event = http_event("GET", "/v1/contacts", headers=headers, query={"limit": "50"})
            samples = []
            for _ in range(args.runs):
                page_calls.clear()
                BaseClient._make_api_call = counting  # type: ignore[attr-defined]
                begin = time.perf_counter()
                page = contacts(list_event, context)
                samples.append((time.perf_counter() - begin) * 1000)
                assert len(__import__("json").loads(page["body"])["items"]) == 50
                BaseClient._make_api_call = original  # type: ignore[attr-defined]
                assert page["statusCode"] == 200
            return statistics.median(samples), list(page_calls)

        small = account("small@bench.test")
        contacts(import_event(small, generate_csv(100, seed=1)), context)
        large = account("large@bench.test")
        large_result = contacts(import_event(large, generate_csv(args.large, seed=2)), context)
        assert large_result["statusCode"] == 200, large_result
        first_page_ms(small)  # warm
        small_ms, small_calls = first_page_ms(small)
        large_ms, large_calls = first_page_ms(large)

    print(f"import of {args.rows:,} rows through the handler (moto in-process)")
    per_table = ", ".join(f"{table} {len(items):,}" for table, items in stored.items())
    print(f"  items stored: {total_items:,} ({per_table})")
    print(f"  import through handler   {import_s:8.2f} s")
    print(f"  raw BatchWriteItem       {raw_s:8.2f} s   ({calls} calls)")
    print(f"  ratio import / raw       {import_s / raw_s:8.2f}   (goal <= 2.0)")
    print(f"first page of GET /v1/contacts (limit 50), median of {args.runs}")
    print(f"  100 contacts             {small_ms:8.2f} ms   calls: {', '.join(small_calls)}")
    print(f"  {args.large:,} contacts    {large_ms:8.2f} ms   calls: {', '.join(large_calls)}")
    print(f"  ratio large / small      {large_ms / small_ms:8.2f}   (goal <= 1.3)")
    print("  (moto's Query walks every item of the table, so its absolute latency grows with")
    print("   the table; the calls the handler makes per page are the same at any size)")


if __name__ == "__main__":
    main()
