"""What every bench script does before it imports the project: its paths, then its environment.

A bench script runs as ``python bench/<name>.py`` and first puts the project root on
``sys.path`` (for this module), then calls :func:`use_bench_environment` before it
imports anything of ``outreach``, whose Powertools objects read the environment at
import. The environment is the one the tests and the local stack share
(:func:`outreach_local.environment.embedded_environment`), with the bench's values.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = (ROOT, ROOT / "layers/outreach/python", ROOT / "infra/local")

# The bench's own values: its table prefix, no real credentials, quiet logs.
BENCH_SIGNING_KEY = "bench-signing-key-0123456789abcdefghijklmnopqrstuvwxyz"
BENCH_VALUES = {
    "JWT_SECRET": BENCH_SIGNING_KEY,
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}


def use_bench_environment(table_prefix: str = "bench-") -> dict[str, str]:
    """Put the project's packages on ``sys.path`` and set the bench's environment.

    Unsets what would reach a real AWS (see ``outreach_local.environment``) and
    returns the values set. Call it before importing any ``outreach`` module.
    """
    for path in reversed(PATHS):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    from outreach_local.environment import embedded_environment, use_environment

    values = {
        **embedded_environment(
            table_prefix=table_prefix, credentials="bench", service_name="bench"
        ),
        **BENCH_VALUES,
    }
    use_environment(values)
    return values
