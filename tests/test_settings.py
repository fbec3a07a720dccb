"""RAS_ settings: defaults, durations, refusal of bad values."""

from typing import Any

import pytest

from app.main import build_services
from app.settings import Environment, Settings, SettingsError, load_settings


def test_defaults_follow_the_manual_and_design(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "RAS_SESSION_IDLE_SECONDS",
        "RAS_LOCKOUT_THRESHOLD",
        "RAS_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)

    settings = load_settings()

    assert settings.session_idle_seconds == 1800
    assert settings.lockout_threshold == 5
    assert settings.lockout_seconds == 86400
    assert settings.password_max_age_days == 365
    assert settings.database_url.startswith("sqlite://")
    assert settings.database_url.endswith("/var/ras-identity.sqlite3")


def test_durations_accept_any_positive_number_of_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAS_SESSION_IDLE_SECONDS", "2.5")
    monkeypatch.setenv("RAS_LOCKOUT_SECONDS", "3")
    monkeypatch.setenv("RAS_LOCKOUT_THRESHOLD", "2")

    policy = build_services(load_settings()).policy

    assert policy.session_idle.total_seconds() == 2.5
    assert policy.lockout_duration.total_seconds() == 3
    assert policy.lockout_threshold == 2


def test_password_and_link_numbers_are_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "RAS_PASSWORD_MIN_LENGTH": "12",
        "RAS_PASSWORD_MAX_LENGTH": "64",
        "RAS_PASSWORD_HISTORY": "5",
        "RAS_COMMON_PASSWORD_BASE_RANK": "10",
        "RAS_SETUP_LINK_HOURS": "48",
        "RAS_RESET_LINK_MINUTES": "15",
        "RAS_RESET_REQUEST_LIMIT": "2",
        "RAS_REGISTRATION_LIMIT": "1",
        "RAS_REQUEST_WINDOW_SECONDS": "600",
    }.items():
        monkeypatch.setenv(name, value)

    policy = build_services(load_settings()).policy

    assert (policy.password_min_length, policy.password_max_length) == (12, 64)
    assert policy.password_history == 5
    assert policy.common_password_base_rank == 10
    assert policy.setup_link_lifetime.total_seconds() == 48 * 3600
    assert policy.reset_link_lifetime.total_seconds() == 15 * 60
    assert (policy.reset_request_limit, policy.registration_limit) == (2, 1)
    assert policy.request_window.total_seconds() == 600


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RAS_PASSWORD_MIN_LENGTH", "7"),
        ("RAS_PASSWORD_MIN_LENGTH", "40"),  # longer than the maximum
        ("RAS_PASSWORD_HISTORY", "0"),
        ("RAS_SESSION_IDLE_SECONDS", "0"),
        ("RAS_SESSION_MAX_SECONDS", "soon"),
        ("RAS_LOCKOUT_THRESHOLD", "0"),
        ("RAS_PASSWORD_MAX_AGE_DAYS", "-1"),
        ("RAS_ARGON2_MEMORY_KIB", "1024"),
        ("RAS_SMTP_URL", "http://mail.example.com"),
        # A password must not cross the network in clear text.
        ("RAS_SMTP_URL", "smtp://user:secret@mail.example.com:25"),
        ("RAS_SMTP_CA_FILE", "/no/such/ca.pem"),
        ("RAS_MAIL_FROM", "not an address"),
        ("RAS_MAIL_FROM", "no-reply@example.jp\r\nBcc: all@example.com"),
        ("RAS_PUBLIC_URL", "javascript:alert(1)"),
        ("RAS_PUBLIC_URL", "https://portal.example.jp/?next=x"),
        ("RAS_MAIL_BATCH_SIZE", "0"),
        ("RAS_MAIL_RETRY_BASE_SECONDS", "0"),
        ("RAS_MAIL_MAX_ATTEMPTS", "0"),
        ("RAS_SMTP_URL", "smtp://mail.example.jp:99999"),
        ("RAS_SMTP_URL", "smtp://mail.example.jp:abc"),
        # The lease must hold ten SMTP timeouts (named in the message).
        ("RAS_MAIL_CLAIM_SECONDS", "100"),
        ("RAS_DATABASE_URL", "mysql://x/y"),
    ],
)
def test_invalid_values_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_smtp_url_forms_are_accepted() -> None:
    for url in (
        "smtp://127.0.0.1:25",
        "smtp+starttls://u:p@mail:587",
        "smtps://mail:465",
    ):
        assert Settings(smtp_url=url).smtp_url == url


def test_mail_settings_reach_the_composer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAS_MAIL_FROM", "入管 <no-reply@ras-immi.example.jp>")
    monkeypatch.setenv("RAS_PUBLIC_URL", "https://portal.example.jp/ras/")

    composer = build_services(load_settings()).composer

    assert composer.envelope_sender == "no-reply@ras-immi.example.jp"
    assert composer.domain == "ras-immi.example.jp"
    assert composer.public_url == "https://portal.example.jp/ras"


def test_plain_smtp_with_credentials_is_allowed_on_loopback_only() -> None:
    assert Settings(smtp_url="smtp://u:p@127.0.0.1:1025").smtp_url is not None
    assert Settings(smtp_url="smtp://u:p@localhost:1025").smtp_url is not None


SAFE_PRODUCTION: dict[str, Any] = {
    "environment": Environment.PRODUCTION,
    "database_url": "postgres://ras@db.internal:5432/ras",
    "smtp_url": "smtp+starttls://mailer:secret@smtp.example.go.jp:587",
    "mail_from": "在留申請オンラインシステム <no-reply@ras.example.go.jp>",
    "public_url": "https://portal.example.go.jp",
    "secret_key": "x" * 44,
}


def test_a_safe_production_configuration_has_no_problems() -> None:
    assert Settings(**SAFE_PRODUCTION).production_problems() == []
    # A relay on the same host may take plain SMTP.
    local = Settings(**SAFE_PRODUCTION | {"smtp_url": "smtp://127.0.0.1:25"})
    assert local.production_problems() == []


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"database_url": "sqlite:///srv/ras.sqlite3"}, "RAS_DATABASE_URL"),
        ({"smtp_url": "smtp://smtp.example.go.jp:25"}, "RAS_SMTP_URL"),
        ({"log_level": "DEBUG"}, "RAS_LOG_LEVEL"),
        ({"lockout_threshold": 11}, "RAS_LOCKOUT_THRESHOLD"),
        ({"session_idle_seconds": 1801}, "RAS_SESSION_IDLE_SECONDS"),
        ({"answer_floor_ms": 0}, "RAS_ANSWER_FLOOR_MS"),
        ({"setup_link_hours": 25}, "RAS_SETUP_LINK_HOURS"),
        ({"reset_link_minutes": 61}, "RAS_RESET_LINK_MINUTES"),
        ({"secret_key": None}, "RAS_SECRET_KEY"),
    ],
)
def test_production_refuses_each_unsafe_setting_by_name(
    change: dict[str, Any], variable: str
) -> None:
    problems = Settings(**SAFE_PRODUCTION | change).production_problems()

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{variable}: ")


def test_the_production_bounds_themselves_are_allowed() -> None:
    edge = Settings(
        **SAFE_PRODUCTION
        | {
            "lockout_threshold": 10,
            "session_idle_seconds": 1800,
            "answer_floor_ms": 1,
            "setup_link_hours": 24,
            "reset_link_minutes": 60,
            "log_level": "WARNING",
        }
    )

    assert edge.production_problems() == []


def test_development_keeps_its_freedom(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "RAS_DATABASE_URL": "sqlite:///tmp/dev.sqlite3",
        "RAS_SMTP_URL": "smtp://mail.example.com:25",
        "RAS_LOG_LEVEL": "DEBUG",
        "RAS_LOCKOUT_THRESHOLD": "50",
        "RAS_SESSION_IDLE_SECONDS": "86400",
        "RAS_ANSWER_FLOOR_MS": "0",
        "RAS_SETUP_LINK_HOURS": "240",
        "RAS_RESET_LINK_MINUTES": "600",
    }.items():
        monkeypatch.setenv(name, value)

    settings = load_settings()

    assert settings.is_development
    assert settings.lockout_threshold == 50


def test_step_up_and_client_limits_are_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = build_services(load_settings()).policy
    assert defaults.step_up.total_seconds() == 600
    assert defaults.client_login_failure_limit == 20
    assert defaults.client_login_window.total_seconds() == 600
    assert load_settings().trusted_networks == ()
    for name, value in {
        "RAS_STEP_UP_SECONDS": "120",
        "RAS_CLIENT_LOGIN_FAILURE_LIMIT": "7",
        "RAS_CLIENT_LOGIN_WINDOW_SECONDS": "60",
        "RAS_CLIENT_REGISTRATION_LIMIT": "4",
        "RAS_CLIENT_RESET_REQUEST_LIMIT": "5",
        "RAS_CLIENT_LINK_LIMIT": "6",
        "RAS_CLIENT_WINDOW_SECONDS": "1800",
        "RAS_TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::/32",
    }.items():
        monkeypatch.setenv(name, value)

    settings = load_settings()
    policy = build_services(settings).policy

    assert policy.step_up.total_seconds() == 120
    assert (policy.client_login_failure_limit, policy.client_registration_limit) == (
        7,
        4,
    )
    assert (policy.client_reset_request_limit, policy.client_link_limit) == (5, 6)
    assert policy.client_login_window.total_seconds() == 60
    assert policy.client_window.total_seconds() == 1800
    assert [str(n) for n in settings.trusted_networks] == [
        "10.0.0.0/8",
        "2001:db8::/32",
    ]


def test_untrustworthy_proxy_lists_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAS_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")

    with pytest.raises(SettingsError, match="RAS_TRUSTED_PROXIES"):
        load_settings()
