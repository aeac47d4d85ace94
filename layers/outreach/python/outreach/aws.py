"""One botocore session per process, shared by every AWS client, PynamoDB's included.

A botocore session loads the SDK's data (endpoints, partitions, retry and default
configuration) and each service model on its own, and caches them for its clients.
Measured in a Lambda-like interpreter (``bench/cold_start.py``'s load), a client from
a new session costs 120-140 ms, one more from the same session 6-11 ms. PynamoDB
gives every model class (one per table) a connection and a session of its own, and
``boto3.client`` uses yet another: a first request touching three tables and a queue
paid that four times. Here every client comes from one session, created on first use
(after moto is active in tests), and PynamoDB's models share one connection
(:class:`SharedSessionConnection`, bound in :mod:`outreach.data.binding`).

The clients are botocore's own (``Session.create_client``), the very objects boto3
hands out, without boto3's session around them: importing boto3 and building its session
cost about 18 ms of every cold start for nothing the functions use (its resources and
the S3 transfer methods; the error report's upload calls ``boto3.s3.inject`` itself).

botocore clients are thread-safe once made; their creation from one session is not
(boto3's guidance), so it is serialised by a lock. Nothing here runs at import.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import botocore.session
from pynamodb.connection import Connection

_creating = threading.RLock()


@lru_cache(maxsize=1)
def botocore_session() -> botocore.session.Session:
    """The process's botocore session (credentials and region from the environment)."""
    return botocore.session.get_session()


def client(service: str, **kwargs: Any) -> Any:
    """A client of ``service`` (botocore's name: ``"sqs"``, ``"secretsmanager"``, ...)
    from the shared session; ``kwargs`` go to :meth:`botocore.session.Session.create_client`
    (``region_name``, ``config``, ``endpoint_url``). Each call makes a new client: callers
    keep theirs. ``botocore.exceptions.UnknownServiceError`` for a service whose data the
    dependencies layer does not keep (layers/dependencies/botocore-services.txt)."""
    with _creating:
        return botocore_session().create_client(service, **kwargs)


class SharedSessionConnection(Connection):
    """A PynamoDB connection whose botocore session is the process's (:func:`botocore_session`)
    rather than one per thread, and whose client is made once, under the creation lock."""

    @property
    def session(self) -> botocore.session.Session:
        return botocore_session()

    @property
    def client(self) -> Any:
        with _creating:
            return super().client
