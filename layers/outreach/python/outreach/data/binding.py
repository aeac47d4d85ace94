"""Bind the models to a deployment's tables and endpoint, lazily.

The models are declared with logical table names; nothing about the
environment is read until :func:`ensure_models_bound` runs on first use.
"""

from __future__ import annotations

import threading

from pynamodb.connection import Connection
from pynamodb.models import Model

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

    Cached connections are dropped, so a rebinding (tests, the local stack)
    takes effect at the next call.
    """
    with _lock:
        for model, logical in _LOGICAL_NAMES.items():
            model.Meta.table_name = settings.table_prefix + logical
            model.Meta.region = settings.aws_region
            model.Meta.host = settings.dynamodb_endpoint
            model._connection = None
        _bound_to["current"] = _binding_of(settings)
        _connections["current"] = Connection(
            region=settings.aws_region, host=settings.dynamodb_endpoint, max_retry_attempts=5
        )


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
