"""The signing key from Secrets Manager (moto): read once per container."""

import boto3
import pytest
from moto import mock_aws

from outreach.config import get_settings
from outreach.secrets import get_signing_key


def test_signing_key_comes_from_secrets_manager_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        secret = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="signing-key", SecretString="k" * 64
        )
        monkeypatch.delenv("JWT_SECRET")
        monkeypatch.setenv("JWT_SECRET_ARN", secret["ARN"])
        get_settings.cache_clear()
        assert get_signing_key() == b"k" * 64
        boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
            SecretId=secret["ARN"], SecretString="other" * 10
        )
        # Cached per container: the secret is read once.
        assert get_signing_key() == b"k" * 64
