"""The local stack started exactly as the README's first command starts it.

`make dev` in the repository root, with an environment of `PATH`, `HOME`, `PORT` and
`TICK_SECONDS=0` only (nothing of the test suite's), on a free port of 127.0.0.1; ready
once `GET /v1/health` answers 200. Black box: this module imports no project module.
Used by the end-to-end tests (`tests/e2e/`): :func:`readme_stack` for a stack of a test
module's own, the :func:`shared_readme_stack` fixture for the session's one stack (started
by the first test that asks for it, stopped when the session ends).
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
import pytest

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


_shared_exit = contextlib.ExitStack()
_shared_base: list[str] = []


def shared_stack_base(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The base URL of this process's one `make dev` (:func:`readme_stack`), started on the
    first call (its log in a new temporary folder, printed), kept until
    :func:`stop_shared_stack`."""
    if not _shared_base:
        log_path = tmp_path_factory.mktemp("readme-stack") / "make-dev.log"
        base, startup = _shared_exit.enter_context(readme_stack(log_path))
        print(f"\nshared stack: make dev healthy after {startup:.1f} s; log at {log_path}")
        _shared_base.append(base)
    return _shared_base[0]


def stop_shared_stack() -> None:
    """Stop the shared `make dev` if it runs (idempotent)."""
    _shared_base.clear()
    _shared_exit.close()


@pytest.fixture(scope="session")
def shared_readme_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of the session's one `make dev`, started as the README says.

    Import it into each test module that uses it (``from tests.support.readme_stack import
    shared_readme_stack``): pytest then holds one fixture per module, but all of them
    answer the same stack (:func:`shared_stack_base`), and since session fixtures are all
    torn down at the end of the session, the first teardown stops it after every test.
    Each xdist worker is a session of its own, with its own stack.
    """
    yield shared_stack_base(tmp_path_factory)
    stop_shared_stack()
