"""Bind the models to a deployment's tables and endpoint, lazily.

The models are declared with logical table names; nothing about the
environment is read until :func:`ensure_models_bound` runs on first use. Every
model then shares one connection, hence one DynamoDB client from the process's
botocore session (:mod:`outreach.aws`), instead of PynamoDB's one per model.
"""

from __future__ import annotations

import threading

from pynamodb.connection import Connection
from pynamodb.exceptions import TableError
from pynamodb.models import Model

from outreach.aws import SharedSessionConnection
from outreach.config import Settings, get_settings
from outreach.data.models import ALL_MODELS

_LOGICAL_NAMES: dict[type[Model], str] = {model: model.Meta.table_name for model in ALL_MODELS}
_lock = threading.Lock()
# The (prefix, endpoint, region) the models are bound to; empty until first bound.
_bound_to: dict[str, tuple[str, str | None, str]] = {}
_connections: dict[str, Connection] = {}


def logical_table_name(model: type[Model]) -> str:
    """The table's name without the deployment prefix (``contacts``)."""
    return _LOGICAL_NAMES[model]


def bind_models(settings: Settings) -> None:
    """Point every model at ``<prefix><logical name>`` in the configured region and endpoint.

    Cached connections are replaced, so a rebinding (tests, the local stack)
    takes effect at the next call. Every model's table connection is given the one
    shared connection (with every table's schema), which transactions use too.
    """
    with _lock:
        shared = SharedSessionConnection(
            region=settings.aws_region, host=settings.dynamodb_endpoint, max_retry_attempts=5
        )
        for model, logical in _LOGICAL_NAMES.items():
            model.Meta.table_name = settings.table_prefix + logical
            model.Meta.region = settings.aws_region
            model.Meta.host = settings.dynamodb_endpoint
            model._connection = None
            table = model._get_connection()  # PynamoDB's own, with the table's schema
            try:
                shared.get_meta_table(table.table_name)
            except TableError:  # the first model of its table (the counters table has two)
                shared.add_meta_table(table.get_meta_table())
            table.connection = shared
        _bound_to["current"] = _binding_of(settings)
        _connections["current"] = shared


def ensure_models_bound() -> None:
    """Bind the models to :func:`get_settings` unless they already are."""
    settings = get_settings()
    if _bound_to.get("current") != _binding_of(settings):
        bind_models(settings)


def _binding_of(settings: Settings) -> tuple[str, str | None, str]:
    return (settings.table_prefix, settings.dynamodb_endpoint, settings.aws_region)


def transaction_connection() -> Connection:
    """The connection ``TransactWrite``/``TransactGet`` use, for the bound endpoint and region."""
    ensure_models_bound()
    return _connections["current"]
