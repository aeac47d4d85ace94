"""What a Lambda-like child interpreter needs before it loads a function: stdlib only.

Used by the children of ``infra/lambda_load.py`` (``make deploy-check``) and
``bench/cold_start.py``, which run in a fresh ``python -I -S -B`` and must import as
little as possible before they load the function (the bench times that load).
"""

from __future__ import annotations

import importlib.machinery
import os
from typing import Any


def record_compiles() -> list[str]:
    """From now on, list every source file this interpreter compiles.

    A module compiled from source had no usable ``.pyc`` (on Lambda, where nothing
    can be written, that is paid on every cold start). The returned list fills as
    imports happen.
    """
    compiled: list[str] = []
    original = importlib.machinery.SourceFileLoader.source_to_code

    def source_to_code(self: Any, data: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(path))
        return original(self, data, path, *args, **kwargs)

    importlib.machinery.SourceFileLoader.source_to_code = source_to_code  # type: ignore[method-assign]
    return compiled


class LambdaContext:
    """The Lambda context a handler gets, from the function's environment."""

    function_version = "$LATEST"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_stream_name = "local"

    def __init__(self, account: str = "123456789012") -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.invoked_function_arn = (
            f"arn:aws:lambda:{os.environ['AWS_REGION']}:{account}:function:{self.function_name}"
        )
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
