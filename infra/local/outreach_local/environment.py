"""The local stack's environment, set before any project module is imported.

In Lambda the environment is complete before the first line of a function's
code runs, so module-level objects built from it (Powertools' logger, tracer
and metrics) see every variable. The local stack gives them the same: its
entry point (``python -m outreach_local``) calls :func:`apply_defaults` first,
and only then imports the server, the functions and the ``outreach`` package.

The values come from template.yaml's ``Globals`` (what every function gets in
the cloud), plus what the embedded AWS needs (credentials, region) and what
is local by nature (the sandbox provider, tracing off, the signing key file).
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

# What the embedded AWS and the local nature of the stack need; not in the template.
LOCAL_DEFAULTS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_REGION": "us-east-1",
    "STAGE": "local",
    "TABLE_PREFIX": "outreach-local-",
    "SMS_PROVIDER": "sandbox",
    "POWERTOOLS_SERVICE_NAME": LOCAL_SERVICE_NAME,
    # No X-Ray daemon runs locally.
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def template_globals(template: dict[str, Any] | None = None) -> dict[str, str]:
    """The plain-string variables of template.yaml's ``Globals.Function.Environment``.

    Values that are CloudFormation expressions (``!Ref Stage``) are left out:
    :data:`LOCAL_DEFAULTS` gives their local value. Empty ones (declared only so that
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
    wanted = {**template_globals(), **LOCAL_DEFAULTS}
    wanted.setdefault("AWS_DEFAULT_REGION", env.get("AWS_REGION") or wanted["AWS_REGION"])
    applied = {name: value for name, value in wanted.items() if not env.get(name)}
    if not env.get("JWT_SECRET") and not env.get("JWT_SECRET_ARN"):
        applied["JWT_SECRET"] = signing_key(state_dir)
    env.update(applied)
    return applied
