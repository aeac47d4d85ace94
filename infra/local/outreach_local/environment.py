"""The local stack's environment, set before any project module is imported.

In Lambda the environment is complete before the first line of a function's
code runs, so module-level objects built from it (Powertools' logger and
metrics) see every variable. The local stack gives them the same: its
entry point (``python -m outreach_local``) calls :func:`apply_defaults` first,
and only then imports the server, the functions and the ``outreach`` package.

The values come from template.yaml's ``Globals`` (what every function gets in
the cloud), plus what the embedded AWS needs (credentials, region) and what
is local by nature (the sandbox provider, the signing key file).
A variable already set by the user wins.

This module imports nothing of ``outreach``: importing it must never build a
Powertools object or read settings.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from outreach_local.template import REPO_ROOT, load_template

LOCAL_STATE_DIR = REPO_ROOT / ".local"

# The process-wide service name: log lines outside any function (the ticker,
# the server). Inside a function's work, each line names that function.
LOCAL_SERVICE_NAME = "outreach-local"

REGION = "us-east-1"

# Variables that would point a process at a real AWS account, another endpoint or a
# stack's queue: a process that runs the handlers against an embedded AWS unsets them.
REAL_AWS_VARIABLES = (
    "DYNAMODB_ENDPOINT",
    "JWT_SECRET_ARN",
    "SEND_QUEUE_URL",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_S3",
    "IMPORTS_BUCKET",
    "AWS_PROFILE",
)


def embedded_environment(
    *, table_prefix: str, credentials: str, service_name: str, region: str = REGION
) -> dict[str, str]:
    """The environment of a process that runs the handlers against an embedded AWS.

    What template.yaml's ``Globals`` give every function in the cloud (so a variable
    the template lacks is missing here too), plus what the embedded AWS and the local
    nature of such a process need: ``credentials`` as both key id and secret (they
    reach nothing real), ``region``, the process's own ``table_prefix``, the sandbox
    SMS provider and ``service_name`` for log lines outside any function. Used by the
    local stack (:func:`apply_defaults`), the tests (``tests/conftest.py``) and the
    benches (``bench/_setup.py``).
    """
    return {
        **template_globals(),
        "AWS_ACCESS_KEY_ID": credentials,
        "AWS_SECRET_ACCESS_KEY": credentials,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "TABLE_PREFIX": table_prefix,
        "SMS_PROVIDER": "sandbox",
        "POWERTOOLS_SERVICE_NAME": service_name,
    }


def use_environment(
    values: dict[str, str], environ: MutableMapping[str, str] | None = None
) -> None:
    """Unset :data:`REAL_AWS_VARIABLES`, then set ``values`` (which win over anything set).

    For the tests and the benches, whose environment is theirs alone; the local stack
    keeps what its user set (:func:`apply_defaults`).
    """
    env = os.environ if environ is None else environ
    for name in REAL_AWS_VARIABLES:
        env.pop(name, None)
    env.update(values)


def local_defaults() -> dict[str, str]:
    """The local stack's values, which :func:`apply_defaults` sets where the user has not."""
    return embedded_environment(
        table_prefix="outreach-local-", credentials="local", service_name=LOCAL_SERVICE_NAME
    )


def template_globals(template: dict[str, Any] | None = None) -> dict[str, str]:
    """The plain-string variables of template.yaml's ``Globals.Function.Environment``.

    Values that are CloudFormation expressions (``!Ref SmsProvider``) are left out:
    :func:`embedded_environment` gives their local value. Empty ones (declared only so that
    ``sam local --env-vars`` may set them) are unset in the cloud, so here too.
    """
    variables = (
        (template or load_template())
        .get("Globals", {})
        .get("Function", {})
        .get("Environment", {})
        .get("Variables", {})
    )
    return {name: value for name, value in variables.items() if isinstance(value, str) and value}


def signing_key(state_dir: Path = LOCAL_STATE_DIR) -> str:
    """The local token signing key, kept in ``.local/signing-key`` (mode 0600) across restarts."""
    path = state_dir / "signing-key"
    if not path.exists():
        state_dir.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def apply_defaults(
    environ: MutableMapping[str, str] | None = None, *, state_dir: Path = LOCAL_STATE_DIR
) -> dict[str, str]:
    """Fill in every variable the handlers read that the user has not set; return what was set.

    Call it before importing any ``outreach`` module (see the module docstring).
    """
    env = os.environ if environ is None else environ
    # The SDK's default region follows a region the user chose.
    wanted = {**local_defaults(), "AWS_DEFAULT_REGION": env.get("AWS_REGION") or REGION}
    applied = {name: value for name, value in wanted.items() if not env.get(name)}
    if not env.get("JWT_SECRET") and not env.get("JWT_SECRET_ARN"):
        applied["JWT_SECRET"] = signing_key(state_dir)
    env.update(applied)
    return applied
