"""The local stack started exactly as the README's first command starts it.

`make dev` in the repository root, with an environment of `PATH`, `HOME`, `PORT` and
`TICK_SECONDS=0` only (nothing of the test suite's), on a free port of 127.0.0.1; ready
once `GET /v1/health` answers 200. Black box: this module imports no project module.
Used by the end-to-end tests (`tests/e2e/`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time as timer
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
HEALTH_TIMEOUT_SECONDS = 120.0


class StackError(Exception):
    """The local stack did not start."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def readme_environment(port: int) -> dict[str, str]:
    """PATH, HOME and the README's documented variables: nothing of the test suite's."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(Path.home())),
        "PORT": str(port),
        "TICK_SECONDS": "0",
    }


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """End `make dev` and everything it started (its own process group)."""
    group = process.pid
    for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, sig)
        deadline = timer.monotonic() + grace
        while timer.monotonic() < deadline:
            if process.poll() is not None:
                try:
                    os.killpg(group, 0)
                except ProcessLookupError:
                    return
            timer.sleep(0.1)


@contextlib.contextmanager
def readme_stack(log_path: Path) -> Iterator[tuple[str, float]]:
    """`make dev` in the repository root; yields its base URL and seconds to healthy."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = timer.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["make", "dev"],  # noqa: S607 - the README's command, found on PATH
            cwd=REPO_ROOT,
            env=readme_environment(port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = started + HEALTH_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise StackError(
                    f"`make dev` exited with {process.returncode}:\n{log_path.read_text()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                    break
            if timer.monotonic() > deadline:
                raise StackError(
                    f"no /v1/health within {HEALTH_TIMEOUT_SECONDS:g} s:\n{log_path.read_text()}"
                )
            timer.sleep(0.2)
        yield base, timer.monotonic() - started
    finally:
        stop_group(process)
