import re

import pytest

from outreach.config import ConfigurationError, Settings, SmsProviderName, get_settings
from outreach.secrets import get_signing_key


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_PREFIX", "prod-")
    monkeypatch.setenv("SMS_PROVIDER", "end_user_messaging")
    monkeypatch.setenv("APP_VERSION", "1.2.3")
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.table_prefix == "prod-"
    assert settings.sms_provider is SmsProviderName.END_USER_MESSAGING
    assert settings.version == "1.2.3"


def test_settings_are_cached_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    monkeypatch.setenv("TABLE_PREFIX", "other-")
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().table_prefix == "other-"


def test_secret_values_stay_out_of_repr() -> None:
    assert "test-signing-key" not in repr(get_settings())


def test_signing_key_needs_a_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET")
    get_settings.cache_clear()
    with pytest.raises(RuntimeError, match="No signing key"):
        get_signing_key()


def test_signing_key_must_be_long_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "short")
    get_settings.cache_clear()
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        get_signing_key()


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("SMS_PROVIDER", "sms", "one of sandbox, sns, end_user_messaging"),
        ("ACCESS_TOKEN_TTL_SECONDS", "soon", "ACCESS_TOKEN_TTL_SECONDS='soon'"),
        ("REFRESH_TOKEN_TTL_SECONDS", "0", "positive number of seconds"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str, named: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(named)):
        Settings.from_environ({variable: value})


def test_absent_variables_take_defaults_and_empty_optional_ones_are_unset() -> None:
    settings = Settings.from_environ({"DYNAMODB_ENDPOINT": "", "SEND_QUEUE_URL": "https://q"})
    assert settings.dynamodb_endpoint is None
    assert settings.send_queue_url == "https://q"
    assert settings.sms_provider is SmsProviderName.SANDBOX
    assert settings.access_token_ttl_seconds == 900
    assert Settings(jwt_secret_arn="").jwt_secret_arn is None


def test_every_setting_is_read_from_its_upper_case_variable() -> None:
    names = Settings.environment_variables()
    assert names["version"] == "APP_VERSION"
    assert names["aws_region"] == "AWS_REGION"
    assert set(names.values()) == {name.upper() for name in names} - {"VERSION"} | {"APP_VERSION"}
