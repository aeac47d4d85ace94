"""The README's two commands share one `.venv`: started together, they never build it twice.

A stand-in Python records when pip runs, so the test sees whether two `make`s
that both find no `.venv` install into it at the same time.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from outreach_local.template import REPO_ROOT

# Acts as `python3.12 -m venv DIR` (making DIR/bin/python a copy of itself) and as
# `DIR/bin/python -m pip install ...` (logging its start and end around a pause).
FAKE_PYTHON = """#!/bin/sh
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit 0
fi
echo "start $$" >> "$PIP_LOG"
sleep 1
echo "end $$" >> "$PIP_LOG"
"""


def test_make_dev_and_make_test_together_install_the_venv_once(tmp_path: Path) -> None:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    fake = tmp_path / "python3.12"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "pip.log"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PIP_LOG": str(log)}
    makes = [
        subprocess.Popen(  # noqa: S603 - make, in a scratch copy of the Makefile
            ["make", "--no-print-directory", "-C", str(tmp_path), "venv", f"PYTHON312={fake}"],  # noqa: S607
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    outputs = [make.communicate(timeout=60)[0].decode() for make in makes]
    assert [make.returncode for make in makes] == [0, 0], outputs
    # One install (pip's upgrade, then the project's), not two overlapping ones.
    events = log.read_text().split()[::2]
    assert events == ["start", "end", "start", "end"], log.read_text()
    assert (tmp_path / ".venv/.installed").exists()
