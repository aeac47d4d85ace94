"""Run the cloud's handlers in-process: load a function's module, give it a Lambda context."""

from __future__ import annotations

import importlib.util
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from outreach_local.template import REPO_ROOT, FunctionSpec, function_specs

FUNCTIONS_DIR = REPO_ROOT / "functions"
API_FUNCTIONS = ("identity", "contacts", "campaigns", "conversations")


_loading = threading.Lock()

# Requests to /v1/dev/* are the local stack's own work.
DEV_SERVICE_NAME = "dev"
# What Lambda itself does for a function (polling its event source, checkpointing), with
# permissions of its own: not the function's code.
EVENT_SOURCE_SERVICE_NAME = "lambda-event-source"


@lru_cache(maxsize=1)
def _specs() -> dict[str, FunctionSpec]:
    return function_specs()


def service_name(function: str) -> str:
    """The function's ``POWERTOOLS_SERVICE_NAME`` in template.yaml."""
    return _specs()[function].service


def service_for_path(path: str) -> str:
    """The service name of the function API Gateway routes ``path`` to (``dev`` for the rest)."""
    for spec in _specs().values():
        if spec.serves(path):
            return spec.service
    return DEV_SERVICE_NAME


@contextmanager
def service_scope(service: str) -> Iterator[None]:
    """Log as ``service`` in this thread or task, as that function's own process would.

    In the cloud each function is a process whose Powertools logger reads its
    ``POWERTOOLS_SERVICE_NAME`` at import. The local stack runs them all in one
    process, so the name is set per unit of work (Powertools' context-local keys
    win over the process-wide ones).
    """
    from outreach.observability import logger

    before = dict(logger.thread_safe_get_current_keys())
    logger.thread_safe_append_keys(service=service)
    try:
        yield
    finally:
        logger.thread_safe_clear_keys()
        if before:
            logger.thread_safe_append_keys(**before)


@contextmanager
def request_scope(path: str) -> Iterator[None]:
    """Log an API request as the invocation of the function API Gateway routes ``path`` to.

    :func:`service_scope`, plus the Lambda context keys (``function_name``,
    ``function_request_id``, ``cold_start``, ...) that function's
    ``inject_lambda_context`` would log, for this request only. The local stack serves
    the API without the Lambda handler, and the event functions it runs in the same
    process leave their invocation's keys in the logger's process-wide state: without
    these, a request's log lines named the last import or tick.
    """
    from outreach.observability import logger

    service = service_for_path(path)
    function = next((s.name for s in _specs().values() if s.serves(path)), service)
    context = LocalLambdaContext(function_name=function)
    with service_scope(service):
        logger.thread_safe_append_keys(
            cold_start=False,
            function_name=context.function_name,
            function_memory_size=context.memory_limit_in_mb,
            function_arn=context.invoked_function_arn,
            function_request_id=context.aws_request_id,
        )
        yield


def load_function(name: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` under a unique module name (every one is ``app``).

    Thread-safe: the background ticker and a request may load the same function
    at once, and neither may see it half-imported.
    """
    module_name = f"outreach_function_{name}"
    with _loading:
        if module_name in sys.modules:
            return sys.modules[module_name]
        path = Path(FUNCTIONS_DIR / name / "app.py")
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"no function at {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
        return module


@dataclass
class LocalLambdaContext:
    """What the Lambda runtime passes as ``context``, for handlers run locally."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_millis: int = 60_000
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_millis
