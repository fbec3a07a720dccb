"""Secrets at rest and the codes of two-step login, without a database:
security/secretbox.py (AES-GCM sealing bound to the owner, keyed recovery-code
hashes, the development key file), the RAS_SECRET_KEY settings around it, and
security/totp.py (how a typed code is cleaned, which time steps a code may come
from, what recovery codes look like)."""

import base64
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from pydantic import SecretStr, ValidationError

from app.settings import Environment, Settings, SettingsError, load_settings
from security.secretbox import (
    MIN_SECRET_KEY_CHARS,
    SecretBox,
    SecretUnreadable,
    development_key,
)
from security.totp import (
    TOTP_STEP_SECONDS,
    clean_code,
    could_be_recovery_code,
    current_step,
    matching_step,
    new_recovery_codes,
    new_totp_secret,
)

# What `openssl rand -base64 32` prints: 44 characters.
KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.b64encode(bytes(range(32, 64))).decode()
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
OTHER_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
OWNER = 7
# The start of a time step (1767225600 is a multiple of 30).
STEP_START = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(seconds=TOTP_STEP_SECONDS)


@pytest.fixture(autouse=True)
def no_secret_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings tests see only what they pass, not the shell's RAS_ values."""
    for name in ("RAS_SECRET_KEY", "RAS_SECRET_KEY_FILE", "RAS_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)


def tampered(stored: str, index: int) -> str:
    """``stored`` with one bit of its decoded body (nonce, ciphertext or tag)
    flipped, still well-formed."""
    version, _, body = stored.partition(".")
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[index] ^= 0x01
    return f"{version}.{base64.urlsafe_b64encode(bytes(raw)).decode()}"


# --- sealing -------------------------------------------------------------------


def test_a_sealed_secret_opens_for_its_owner() -> None:
    box = SecretBox(KEY)

    stored = box.seal(SECRET, owner=OWNER)

    assert box.open(stored, owner=OWNER) == SECRET
    assert SecretBox(KEY).open(stored, owner=OWNER) == SECRET


def test_a_sealed_value_never_shows_the_plaintext() -> None:
    box = SecretBox(KEY)

    first = box.seal(SECRET, owner=OWNER)
    second = box.seal(SECRET, owner=OWNER)

    assert first.startswith("v1.")
    for stored in (first, second):
        assert SECRET not in stored
        assert SECRET[:16] not in stored
        assert SECRET.lower() not in stored.lower()
        assert KEY not in stored
    # A fresh nonce each time: equal secrets do not look equal at rest.
    assert first != second


def test_another_owner_cannot_open_it() -> None:
    box = SecretBox(KEY)
    stored = box.seal(SECRET, owner=OWNER)

    with pytest.raises(SecretUnreadable):
        box.open(stored, owner=OWNER + 1)


def test_another_key_cannot_open_it() -> None:
    stored = SecretBox(KEY).seal(SECRET, owner=OWNER)

    with pytest.raises(SecretUnreadable):
        SecretBox(OTHER_KEY).open(stored, owner=OWNER)
    with pytest.raises(SecretUnreadable):
        SecretBox.ephemeral().open(stored, owner=OWNER)


@pytest.mark.parametrize("index", [0, 11, 12, -17, -1])
def test_a_tampered_ciphertext_is_unreadable(index: int) -> None:
    box = SecretBox(KEY)
    stored = box.seal(SECRET, owner=OWNER)

    with pytest.raises(SecretUnreadable):
        box.open(tampered(stored, index), owner=OWNER)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "v1",
        "v1.",
        "v1.AAAA",
        "v1.not base64 at all",
        "v1.ÄÖÜ",
        f"v1.{base64.urlsafe_b64encode(bytes(12)).decode()}",
        "v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        SECRET,
    ],
)
def test_a_malformed_stored_value_is_unreadable(stored: str) -> None:
    with pytest.raises(SecretUnreadable):
        SecretBox(KEY).open(stored, owner=OWNER)


def test_a_sealed_value_with_another_version_is_unreadable() -> None:
    box = SecretBox(KEY)
    stored = box.seal(SECRET, owner=OWNER)

    with pytest.raises(SecretUnreadable):
        box.open("v2." + stored.removeprefix("v1."), owner=OWNER)


def test_a_key_shorter_than_32_characters_is_refused() -> None:
    assert MIN_SECRET_KEY_CHARS == 32
    with pytest.raises(ValueError, match="32"):
        SecretBox("k" * 31)
    with pytest.raises(ValueError, match="32"):
        SecretBox("")
    SecretBox("k" * 32)  # exactly enough


# --- recovery-code hashes ------------------------------------------------------


def test_code_hashes_differ_per_owner_and_per_key_and_are_stable() -> None:
    box = SecretBox(KEY)
    code = "ABCD2345EFGH"

    mine = box.code_hash(code, owner=OWNER)

    assert re.fullmatch(r"[0-9a-f]{64}", mine)
    assert code not in mine.upper()
    assert box.code_hash(code, owner=OWNER) == mine
    assert SecretBox(KEY).code_hash(code, owner=OWNER) == mine
    assert box.code_hash(code, owner=OWNER + 1) != mine
    assert SecretBox(OTHER_KEY).code_hash(code, owner=OWNER) != mine
    assert box.code_hash("ABCD2345EFGJ", owner=OWNER) != mine


# --- settings ------------------------------------------------------------------


def test_settings_refuse_a_short_secret_key_by_name() -> None:
    key = "tiny-key-0042"

    with pytest.raises(ValidationError) as invalid:
        Settings(secret_key=SecretStr(key))
    assert [error["loc"] for error in invalid.value.errors()] == [("secret_key",)]
    with pytest.raises(SettingsError, match="RAS_SECRET_KEY") as refused:
        load_settings(secret_key=key)

    # The refusal names the variable, never the value (it ends up in logs).
    assert key not in str(refused.value)


def test_a_short_secret_key_in_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAS_SECRET_KEY", "short")

    with pytest.raises(SettingsError, match="RAS_SECRET_KEY"):
        load_settings()


def test_settings_accept_a_key_of_32_characters() -> None:
    settings = load_settings(secret_key="k" * 32)

    assert settings.secret_key is not None
    assert "k" * 32 not in repr(settings)


def test_production_without_a_secret_key_refuses_to_make_one(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "secret.key"
    settings = Settings(
        environment=Environment.PRODUCTION, secret_key=None, secret_key_file=key_file
    )

    with pytest.raises(SettingsError, match="RAS_SECRET_KEY"):
        settings.secret_box()

    assert not key_file.exists()


def test_a_box_from_the_settings_key_opens_what_another_box_sealed(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "secret.key"
    stored = SecretBox(KEY).seal(SECRET, owner=OWNER)

    for environment in Environment:
        settings = Settings(
            environment=environment,
            secret_key=SecretStr(KEY),
            secret_key_file=key_file,
        )
        box = settings.secret_box()
        assert box.open(stored, owner=OWNER) == SECRET
        assert box.code_hash("ABCD", owner=1) == SecretBox(KEY).code_hash(
            "ABCD", owner=1
        )
    # A configured key never needs the development file.
    assert not key_file.exists()


def test_development_keeps_its_key_across_restarts(tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "secret.key"
    first = Settings(secret_key=None, secret_key_file=key_file).secret_box()
    stored = first.seal(SECRET, owner=OWNER)

    second = Settings(secret_key=None, secret_key_file=key_file).secret_box()

    assert second.open(stored, owner=OWNER) == SECRET
    assert key_file.exists()


# --- the development key file --------------------------------------------------


def test_development_key_makes_a_private_file_once(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret.key"

    key = development_key(path)

    assert len(key) >= MIN_SECRET_KEY_CHARS
    assert path.read_text("ascii").strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert development_key(path) == key
    # No draft left beside it.
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]
    SecretBox(key)  # usable as a key


def test_development_keys_differ_per_file(tmp_path: Path) -> None:
    assert development_key(tmp_path / "a.key") != development_key(tmp_path / "b.key")


def test_development_key_keeps_a_key_already_there(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text(f"  {KEY}\n", encoding="ascii")

    assert development_key(path) == KEY


@pytest.mark.parametrize("junk", ["", "\n", "short\n", "k" * 31])
def test_a_key_file_holding_junk_is_refused(tmp_path: Path, junk: str) -> None:
    path = tmp_path / "secret.key"
    path.write_text(junk, encoding="ascii")

    with pytest.raises(ValueError, match="RAS_SECRET_KEY"):
        development_key(path)

    # Left for a person to look at, and no draft beside it.
    assert path.read_text("ascii") == junk
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]


# --- typed codes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("123456", "123456"),
        ("１２３４５６", "123456"),
        ("１２３ ４５６", "123456"),
        ("123\u3000456", "123456"),
        (" 123 456 ", "123456"),
        ("123-456", "123456"),
        ("１２３－４５６", "123456"),
        ("\t123456\n", "123456"),
        ("abcd-efgh-jkmn", "ABCDEFGHJKMN"),
        ("ＡＢＣＤ ２３４５ ｅｆｇｈ", "ABCD2345EFGH"),
        # Dashes an IME or a word processor puts for the hyphen.
        ("ABCD\u2010EFGH\u2212JKMN", "ABCDEFGHJKMN"),
        ("ABCDーEFGHｰJKMN", "ABCDEFGHJKMN"),
        ("ABCD\u2013EFGH\u2014JKMN", "ABCDEFGHJKMN"),
    ],
)
def test_clean_code_folds_full_width_and_drops_spaces_and_hyphens(
    typed: str, cleaned: str
) -> None:
    assert clean_code(typed) == cleaned


# --- time steps ------------------------------------------------------------------


def code_at(moment: datetime) -> str:
    return pyotp.TOTP(SECRET).at(moment)


def test_the_fixed_moments_have_distinct_codes() -> None:
    """The drift tests below mean something only if the five steps' codes
    differ (a collision would accept a code for the wrong reason)."""
    codes = {code_at(STEP_START + n * STEP) for n in range(-2, 3)}
    assert len(codes) == 5


@pytest.mark.parametrize(
    ("steps", "accepted"),
    [(-2, False), (-1, True), (0, True), (1, True), (2, False)],
)
@pytest.mark.parametrize("into_step", [timedelta(0), timedelta(seconds=29)])
def test_matching_step_accepts_one_step_either_way_and_no_more(
    steps: int, accepted: bool, into_step: timedelta
) -> None:
    now = STEP_START + into_step
    code = code_at(STEP_START + steps * STEP)

    found = matching_step(SECRET, code, now)

    current = current_step(now)
    assert current == int(STEP_START.timestamp()) // TOTP_STEP_SECONDS
    assert found == (current + steps if accepted else None)


def test_matching_step_names_the_step_of_a_cleaned_code() -> None:
    code = code_at(STEP_START)
    typed = f"{code[:3]} {code[3:]}".translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )

    assert matching_step(SECRET, clean_code(typed), STEP_START) == current_step(
        STEP_START
    )
    # Uncleaned, it is not six ASCII digits.
    assert matching_step(SECRET, typed, STEP_START) is None


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "12a456", "abcdef", "12 456", "-12345", "+12345"],
)
def test_matching_step_refuses_what_is_not_six_digits(code: str) -> None:
    assert matching_step(SECRET, code, STEP_START) is None


def test_matching_step_refuses_digits_that_are_not_ascii() -> None:
    code = code_at(STEP_START)
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    arabic_indic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))

    assert matching_step(SECRET, code, STEP_START) is not None
    assert matching_step(SECRET, full_width, STEP_START) is None
    assert matching_step(SECRET, arabic_indic, STEP_START) is None
    assert matching_step(SECRET, "¹²³⁴⁵⁶", STEP_START) is None


def test_matching_step_refuses_another_secrets_code() -> None:
    other = pyotp.TOTP(OTHER_SECRET).at(STEP_START)
    assert other not in {code_at(STEP_START + n * STEP) for n in (-1, 0, 1)}

    assert matching_step(SECRET, other, STEP_START) is None
    assert matching_step(OTHER_SECRET, other, STEP_START) == current_step(STEP_START)


def test_new_totp_secrets_are_fresh_base32_of_160_bits() -> None:
    secrets = {new_totp_secret() for _ in range(20)}

    assert len(secrets) == 20
    for secret in secrets:
        assert re.fullmatch(r"[A-Z2-7]{32}", secret)
        assert len(base64.b32decode(secret)) == 20


# --- recovery codes --------------------------------------------------------------


def test_new_recovery_codes_are_ten_distinct_codes_of_the_shown_form() -> None:
    codes = new_recovery_codes()

    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code), code
        assert not set(code) & set("01OIL")
        assert could_be_recovery_code(clean_code(code))
        assert could_be_recovery_code(clean_code(code.lower().replace("-", " ")))
        assert not could_be_recovery_code(code)  # as shown, not cleaned
    assert not set(codes) & set(new_recovery_codes())


@pytest.mark.parametrize(
    "cleaned",
    ["", "ABCD2345EFG", "ABCD2345EFGHJ", "ABCD2345EFG0", "ABCD2345EFGO", "123456"],
)
def test_could_be_recovery_code_refuses_other_shapes(cleaned: str) -> None:
    assert not could_be_recovery_code(cleaned)


@pytest.mark.parametrize("junk", [b"short\n", "鍵".encode() * 20])
def test_serve_with_a_key_file_that_holds_no_key_stops_with_a_message(
    tmp_path: Path, junk: bytes
) -> None:
    """A development key file someone edited: start-up stops naming the file
    and the variable (exit 2), not with a traceback."""
    from tests.support import run_cli

    key_file = tmp_path / "secret.key"
    key_file.write_bytes(junk)
    database = f"sqlite://{tmp_path / 'db.sqlite3'}"
    done = run_cli(
        ["serve", "--port", "0"], database, RAS_SECRET_KEY_FILE=str(key_file)
    )
    assert done.returncode == 2, done.stderr
    assert "RAS_SECRET_KEY_FILE" in done.stderr
    assert "Traceback" not in done.stderr
    assert key_file.read_bytes() == junk
