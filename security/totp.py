"""TOTP (RFC 6238) and recovery codes, shared by staff login and applicants'
two-step login.

Codes as authenticator apps make them: SHA-1, 6 digits, 30-second steps; one
step of clock drift either way is accepted. The caller stores the step of the
last accepted code and accepts a code only for a later step, so a code seen
over a shoulder or in a proxy's log cannot be replayed within its window.
"""

import hmac
import secrets
import unicodedata
from datetime import datetime

import pyotp

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
# Steps either side of now that a code may come from (clock drift, typing).
TOTP_DRIFT_STEPS = 1

# Recovery codes: 12 characters of the 認証ID alphabet (no 0/O, 1/I/L), about
# 59 bits each, shown as XXXX-XXXX-XXXX.
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 12
_RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_totp_secret() -> str:
    """A fresh base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """What an authenticator app scans: otpauth://totp/…?secret=…&issuer=…"""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


# Hyphen-minus and what a Japanese IME or a word processor may put for it:
# hyphens and dashes (U+2010-2015), minus (U+2212), the long-vowel mark (ー).
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc")


def clean_code(text: str) -> str:
    """A code as typed: full-width digits (a Japanese IME) folded, spaces (as
    apps show it, "123 456") and dashes dropped, letters upper-cased."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        ch for ch in folded if not ch.isspace() and ch not in _DASHES
    ).upper()


def current_step(now: datetime) -> int:
    return int(now.timestamp()) // TOTP_STEP_SECONDS


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (within the drift) whose code ``code`` (cleaned) is, or
    None. Every candidate is compared, in constant time."""
    if not (len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = current_step(now)
    found = None
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected, code) and found is None:
            found = step
    return found


def new_recovery_codes() -> list[str]:
    """Fresh recovery codes, formatted for showing (XXXX-XXXX-XXXX)."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(
            secrets.choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH)
        )
        codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
    return codes


def could_be_recovery_code(cleaned: str) -> bool:
    return len(cleaned) == RECOVERY_CODE_LENGTH and all(
        ch in _RECOVERY_ALPHABET for ch in cleaned
    )
