"""What a function's module imports: its ``app.py`` loaded in a fresh interpreter.

The interpreter has only the outreach layer's source on its path (the third-party
packages come from this .venv) and the variables Lambda sets for an invocation, so an
import that only happens in Lambda (a tracer that activates when traced) happens here.
Each function is probed once per test process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache

from outreach_local.template import REPO_ROOT

_PROBE = """
import importlib.util, json, os, sys
os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    AWS_LAMBDA_FUNCTION_NAME="probe",
    _X_AMZN_TRACE_ID="Root=1-67890abc-0123456789abcdef01234567;Sampled=1",
)
spec = importlib.util.spec_from_file_location("probe_app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
print(json.dumps(sorted(sys.modules)))
"""


@cache
def modules_imported_by(function: str) -> frozenset[str]:
    """Every module loaded once ``functions/<function>/app.py`` is imported (by name)."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and file
        [sys.executable, "-c", _PROBE, str(REPO_ROOT / "functions" / function / "app.py")],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO_ROOT / "layers/outreach/python"), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return frozenset(json.loads(result.stdout))


def top_level_imported_by(function: str, packages: set[str]) -> list[str]:
    """Which of ``packages`` (top-level names) the function's module loads."""
    loaded = {name.split(".")[0] for name in modules_imported_by(function)}
    return sorted(loaded & packages)
