import pytest

from outreach.config import SmsProviderName, get_settings
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
