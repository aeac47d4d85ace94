"""``make dev``: the whole API on one port, an embedded DynamoDB, and scheduler ticks.

Environment:
  PORT               port of the API (default 8000)
  HOST               interface to listen on (default 127.0.0.1)
  TICK_SECONDS       run the scheduled functions every N seconds (default 60; 0 = never)
  DYNAMODB_ENDPOINT  use this DynamoDB (e.g. DynamoDB Local) instead of the embedded one
  WEBHOOK_ALLOW_LOOPBACK  true: webhook endpoints on http://127.0.0.1 and localhost are
                     allowed (never in the cloud); default false

Importing this module imports the ``outreach`` package, whose Powertools objects
read the environment at import: run :func:`outreach_local.environment.apply_defaults`
first (``python -m outreach_local`` does).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import boto3
from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool

from outreach.api.app import create_app
from outreach.api.deps import CallerDep
from outreach.campaigns.service import (
    CampaignService,
    build_campaign_service,
    get_campaign_service,
)
from outreach.config import get_settings
from outreach.contacts.service import ContactService, build_contact_service, get_contact_service
from outreach.conversations.service import (
    ConversationService,
    build_conversation_service,
    get_conversation_service,
)
from outreach.webhooks.service import get_webhook_service
from outreach_local.environment import apply_defaults
from outreach_local.runtime import API_FUNCTIONS, load_function, request_scope, service_scope
from outreach_local.streams import get_stats_pump
from outreach_local.template import create_tables
from outreach_local.ticks import get_timelines
from outreach_local.uploads import UploadWatcher
from outreach_local.webhooks import get_webhook_runner, local_webhook_service


@dataclass
class LocalEnvironment:
    """What :func:`prepare_environment` started, to stop it afterwards."""

    dynamodb_endpoint: str
    moto_server: Any | None
    s3_endpoint: str
    imports_bucket: str

    def stop(self) -> None:
        if self.moto_server is not None:
            self.moto_server.stop()

    def upload_watcher(self) -> UploadWatcher:
        """The thread that runs the imports function as uploads land (not started)."""
        s3 = boto3.client(
            "s3", region_name=get_settings().aws_region, endpoint_url=self.s3_endpoint
        )
        return UploadWatcher(s3, self.imports_bucket, get_settings().aws_region)


def prepare_environment(dynamodb_endpoint: str | None = None) -> LocalEnvironment:
    """Start the embedded AWS (moto server on loopback), create the tables, the queue and
    the imports bucket.

    Adds to the environment what only the started services decide (their
    endpoints, the queue's URL); everything else is :func:`apply_defaults`', which
    a caller runs before importing any project module (``python -m outreach_local``
    does), so the objects built at import see it.
    """
    from moto.server import ThreadedMotoServer

    from outreach_local import transactions

    apply_defaults()  # a no-op when the caller did it first, as it should
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per AWS call otherwise
    transactions.install()  # moto copies whole tables per transaction write (see there)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    moto_url = f"http://{host}:{port}"
    # Queues and S3 (and any other AWS service but DynamoDB) go to the embedded server.
    os.environ["AWS_ENDPOINT_URL_SQS"] = moto_url
    os.environ["AWS_ENDPOINT_URL_S3"] = moto_url
    os.environ["DYNAMODB_ENDPOINT"] = dynamodb_endpoint or moto_url
    get_settings.cache_clear()
    settings = get_settings()

    dynamodb = boto3.client(
        "dynamodb", region_name=settings.aws_region, endpoint_url=os.environ["DYNAMODB_ENDPOINT"]
    )
    create_tables(dynamodb, settings.table_prefix)
    sqs = boto3.client("sqs", region_name=settings.aws_region, endpoint_url=moto_url)
    queue_url = sqs.create_queue(
        QueueName=f"{settings.table_prefix}send.fifo",
        Attributes={"FifoQueue": "true", "VisibilityTimeout": "60"},
    )["QueueUrl"]
    os.environ["SEND_QUEUE_URL"] = queue_url
    bucket = f"{settings.table_prefix}imports"
    boto3.client("s3", region_name=settings.aws_region, endpoint_url=moto_url).create_bucket(
        Bucket=bucket
    )
    os.environ["IMPORTS_BUCKET"] = bucket
    get_settings.cache_clear()
    return LocalEnvironment(
        dynamodb_endpoint=os.environ["DYNAMODB_ENDPOINT"],
        moto_server=moto,
        s3_endpoint=moto_url,
        imports_bucket=bucket,
    )


def api_routers() -> list[APIRouter]:
    """Every API function's routers, each once, in template order."""
    routers: list[APIRouter] = []
    for name in API_FUNCTIONS:
        for router in load_function(name).routers:
            if router not in routers:
                routers.append(router)
    return routers


def build_app() -> FastAPI:
    """One ASGI app serving every domain at its API Gateway path, plus ``/v1/dev``.

    Services that read the time run on the caller organization's timeline
    (see :mod:`outreach_local.timelines`), and each request logs as the
    function API Gateway would route it to.
    """
    from outreach_local.dev_routes import router as dev_router

    app = create_app([*api_routers(), dev_router], title="Outreach API (local stack)")
    app.dependency_overrides[get_campaign_service] = _campaign_service_for
    app.dependency_overrides[get_contact_service] = _contact_service_for
    app.dependency_overrides[get_conversation_service] = _conversation_service_for
    app.dependency_overrides[get_webhook_service] = local_webhook_service

    @app.middleware("http")
    async def as_the_function(request: Request, call_next: Any) -> Any:
        """Log as the routed function; after a write, count the recipients' changes as the
        stats function would."""
        with request_scope(request.url.path):
            response = await call_next(request)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            with service_scope("stats"):
                await run_in_threadpool(get_stats_pump().drain)
        return response

    return app


def _campaign_service_for(caller: CallerDep) -> CampaignService:
    return _campaign_service(caller.org_id)


def _contact_service_for(caller: CallerDep) -> ContactService:
    return _contact_service(caller.org_id)


def _conversation_service_for(caller: CallerDep) -> ConversationService:
    return _conversation_service(caller.org_id)


@lru_cache(maxsize=1024)
def _conversation_service(org_id: str) -> ConversationService:
    """The conversation service on ``org_id``'s timeline (a manual text's quiet hours are
    the organization's simulated time's, as its campaign texts' are)."""
    return build_conversation_service(get_timelines().clock(org_id))


@lru_cache(maxsize=1024)
def _campaign_service(org_id: str) -> CampaignService:
    """The campaign service on ``org_id``'s timeline."""
    return build_campaign_service(get_timelines().clock(org_id))


@lru_cache(maxsize=1024)
def _contact_service(org_id: str) -> ContactService:
    """The contact service on ``org_id``'s timeline."""
    return build_contact_service(get_timelines().clock(org_id))


def run_scheduled_functions(now: datetime | None = None) -> dict[str, Any]:
    """One scheduler tick for every organization at ``now`` (default: the real clock)."""
    from outreach.clock import SystemClock
    from outreach_local.ticks import run_tick

    instant = now or datetime.now(UTC)
    return run_tick(instant, clock=SystemClock() if now is None else None).as_dict()


class Ticker(threading.Thread):
    """Runs the scheduled functions every ``interval`` seconds until stopped."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="outreach-ticker", daemon=True)
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                run_scheduled_functions()
            except Exception as exc:  # a failed tick must not end the local stack
                print(f"tick failed: {exc!r}", file=sys.stderr)

    def stop(self) -> None:
        self._stopped.set()


def main() -> None:
    """Start everything, print where to go, serve until interrupted."""
    import uvicorn

    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    tick_seconds = float(os.environ.get("TICK_SECONDS", "60"))
    environment = prepare_environment(os.environ.get("DYNAMODB_ENDPOINT") or None)
    app = build_app()
    ticker = Ticker(tick_seconds) if tick_seconds > 0 else None
    uploads = environment.upload_watcher()
    webhooks = get_webhook_runner()
    loopback = get_settings().webhook_allow_loopback
    base = f"http://{host}:{port}"
    print(
        "\nOutreach local stack\n"
        f"  API       {base}/v1/health\n"
        f"  OpenAPI   {base}/v1/openapi.json   (the deployed API's; generate clients from it)\n"
        f"  Docs      {base}/docs   (that document with the /v1/dev routes added)\n"
        f"  DynamoDB  {environment.dynamodb_endpoint}\n"
        f"  Ticks     {f'every {tick_seconds:g} s' if ticker else 'off'} (POST /v1/dev/tick)\n"
        f"  S3        {environment.s3_endpoint}   (POST /v1/imports upload forms post here;\n"
        "            an upload is imported as soon as it lands)\n"
        "  SMS       sandbox (GET /v1/dev/outbox)\n"
        f"  Webhooks  delivered for real; http://127.0.0.1 and localhost endpoints "
        f"{'allowed' if loopback else 'refused (WEBHOOK_ALLOW_LOOPBACK=true allows them)'}\n"
        "Press Ctrl+C to stop.\n",
        flush=True,
    )
    if ticker:
        ticker.start()
    uploads.start()
    webhooks.start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        webhooks.stop()
        uploads.stop()
        if ticker:
            ticker.stop()
        environment.stop()
