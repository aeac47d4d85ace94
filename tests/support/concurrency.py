"""Running jobs at the same moment, as concurrent Lambda invocations would."""

from __future__ import annotations

import threading
from collections.abc import Callable


def at_once(jobs: list[Callable[[], object]]) -> None:
    """Run every job in its own thread, all released together; re-raise the first error."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as error:  # a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
