"""The layer's requirements.txt is pyproject's runtime dependencies (boto3 comes with Lambda)."""

import tomllib

from outreach_local.template import REPO_ROOT


def test_layer_requirements_mirror_pyproject() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    declared = {dep for dep in pyproject["project"]["dependencies"] if not dep.startswith("boto3")}
    lines = (REPO_ROOT / "layers/dependencies/requirements.txt").read_text().splitlines()
    required = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert required == declared


def test_layer_holds_python_folder_and_no_build_method() -> None:
    # Lambda must see /opt/python/outreach, not /opt/python/python/outreach.
    assert (REPO_ROOT / "layers/outreach/python/outreach/__init__.py").exists()
    assert not (REPO_ROOT / "layers/outreach/requirements.txt").exists()
