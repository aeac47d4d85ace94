"""The layer's requirements.txt is pyproject's runtime dependencies, boto3 and botocore pinned
together; both layers are built by their Makefile into /opt/python with unchecked-hash bytecode."""

import re
import tomllib
from importlib import metadata

from outreach_local.template import REPO_ROOT, load_template


def pins(lines: list[str]) -> set[str]:
    return {line.strip() for line in lines if line.strip() and not line.strip().startswith("#")}


def test_layer_requirements_mirror_pyproject() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    declared = set(pyproject["project"]["dependencies"])
    lines = (REPO_ROOT / "layers/dependencies/requirements.txt").read_text().splitlines()
    assert pins(lines) == declared


def test_boto3_and_botocore_are_pinned_together() -> None:
    # The layer ships both (pynamodb needs botocore): a botocore beside the runtime's
    # boto3, or an unpinned one, would be a pair nobody tested.
    lines = (REPO_ROOT / "layers/dependencies/requirements.txt").read_text().splitlines()
    versions = dict(pin.split("==", 1) for pin in pins(lines) if "==" in pin)
    boto3, botocore = versions.get("boto3"), versions.get("botocore")
    assert boto3 and botocore, "boto3 and botocore must both be pinned exactly"
    # boto3 x.y.z requires botocore >=x.y.z,<x.(y+1): the same release.
    assert boto3 == botocore
    assert metadata.version("boto3") == boto3
    assert metadata.version("botocore") == botocore


def test_layer_holds_python_folder_and_no_requirements() -> None:
    # Lambda must see /opt/python/outreach, not /opt/python/python/outreach.
    assert (REPO_ROOT / "layers/outreach/python/outreach/__init__.py").exists()
    assert not (REPO_ROOT / "layers/outreach/requirements.txt").exists()


def test_layers_are_built_by_their_makefile_with_unchecked_bytecode() -> None:
    resources = load_template()["Resources"]
    layers = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::LayerVersion"}
    assert layers
    for logical_id, layer in layers.items():
        assert layer["Metadata"]["BuildMethod"] == "makefile", logical_id
        assert layer["Metadata"]["BuildArchitecture"] == "arm64", logical_id
        makefile = (REPO_ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
        target = re.search(rf"^build-{logical_id}:\n((?:\t.*\n)+)", makefile, re.MULTILINE)
        assert target, f"{logical_id}: no build-{logical_id} target"
        recipe = target.group(1)
        # Everything under $(ARTIFACTS_DIR)/python (/opt/python), compiled so that a
        # read-only /opt never compiles at a cold start, whatever the zip did to mtimes.
        assert '"$(ARTIFACTS_DIR)/python' in recipe
        assert "-m compileall" in recipe
        assert "--invalidation-mode unchecked-hash" in recipe


def test_time_zones_come_from_the_pinned_tzdata_of_the_layer() -> None:
    # The python3.12 runtime's Amazon Linux 2023 minimal image need not carry
    # /usr/share/zoneinfo: with an empty PYTHONTZPATH, zoneinfo reads the tzdata package
    # alone, the one the dependencies layer ships (infra/lambda_load.py checks that each
    # built function loads a zone from its layers).
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["PYTHONTZPATH"] == ""
    lines = (REPO_ROOT / "layers/dependencies/requirements.txt").read_text().splitlines()
    assert any(pin.startswith("tzdata==") for pin in pins(lines))
