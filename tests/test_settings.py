"""Settings: read once from RESUME_*, cast, defaulted, documented, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from resume.errors import ConfigError
from resume.settings import SPECS, Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = README.read_text()
    missing = [spec.env for spec in SPECS if f"`{spec.env}`" not in readme]
    assert not missing, f"document these in README.md: {missing}"


def test_every_setting_has_help_and_a_field() -> None:
    fields = set(Settings.__struct_fields__)
    for spec in SPECS:
        assert spec.help.strip(), spec.env
        assert spec.field in fields, spec.env


def test_defaults_make_the_embedded_product() -> None:
    settings = Settings.from_env({"RESUME_SECRET_KEYS": "k" * 32})
    assert settings.is_sqlite
    assert settings.smtp_url == ""
    assert settings.sqlite_synchronous == "NORMAL"
    assert settings.secret_keys == ("k" * 32,)


def test_keys_are_a_list_newest_last() -> None:
    settings = Settings.from_env({"RESUME_SECRET_KEYS": "old-key-0123456789, new-key-0123456789"})
    assert settings.secret_keys == ("old-key-0123456789", "new-key-0123456789")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RESUME_MAX_BODY_BYTES", "lots"),
        ("RESUME_MAX_BODY_BYTES", "-5"),
        ("RESUME_SQLITE_SYNCHRONOUS", "sometimes"),
        ("RESUME_BASE_URL", "example.com"),
        ("RESUME_MIN_FORM_SECONDS", "nan"),
        ("RESUME_RATE_LIMIT_LINKS", "0"),
        ("RESUME_RATE_LIMIT_LINKS", "twenty"),
    ],
)
def test_a_bad_value_names_the_key_and_the_value(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"RESUME_SECRET_KEYS": "k" * 32, name: value})
    assert name in raised.value.message
    assert repr(value) in raised.value.message


def test_a_short_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"RESUME_SECRET_KEYS": "short"})
    assert "short" not in raised.value.message
    assert "RESUME_SECRET_KEYS" in raised.value.message


def test_secrets_never_show_in_the_repr() -> None:
    settings = Settings.from_env(
        {
            "RESUME_SECRET_KEYS": "very-secret-key-0123456789",
            "RESUME_DATABASE_URL": "postgresql+asyncpg://app:hunter2@db.internal/resume",
        }
    )
    shown = repr(settings)
    assert "very-secret" not in shown and "hunter2" not in shown
    assert "db.internal" in shown


def test_a_development_key_is_generated_once_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = Settings.from_env({}).secret_keys
    second = Settings.from_env({}).secret_keys
    assert first == second and len(first[0]) >= 32
    assert (tmp_path / ".resume-secret-key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RESUME_SMTP_URL", "mail.example.com"),
        ("RESUME_SMTP_URL", "smtp://host:port"),
        ("RESUME_LOG_LEVEL", "LOUD"),
        ("RESUME_DATABASE_URL", "resume.db"),
        ("RESUME_DATABASE_URL", "mysql://db/resume"),
    ],
)
def test_bad_urls_and_levels_are_refused_at_start(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"RESUME_SECRET_KEYS": "k" * 32, name: value})
    assert name in raised.value.message


def test_plain_database_urls_get_the_async_driver() -> None:
    settings = Settings.from_env(
        {"RESUME_SECRET_KEYS": "k" * 32, "RESUME_DATABASE_URL": "postgresql://app@db/resume"}
    )
    assert settings.database_url == "postgresql+asyncpg://app@db/resume"
