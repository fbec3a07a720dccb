"""Password hashing (argon2id, off the event loop) and the password policy."""

import asyncio
import secrets
from dataclasses import dataclass
from typing import Protocol

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError

SYMBOLS = "$%&=@_#*+-?!"
MIN_LENGTH = 8
MAX_LENGTH = 32


class PasswordHasher(Protocol):
    """The seam the resolvers use; every method runs the CPU work off the loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, encoded: str | None, password: str) -> bool: ...

    def needs_rehash(self, encoded: str) -> bool: ...


class Argon2idHasher:
    """argon2id via argon2-cffi in a worker thread (argon2 releases the GIL)."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = Argon2Hasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        # Verified against when the auth ID is unknown or has no password yet,
        # so that answer costs the same time as a wrong password.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, encoded: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify_sync, encoded, password)

    def _verify_sync(self, encoded: str | None, password: str) -> bool:
        try:
            if encoded is None:
                self._hasher.verify(self._dummy, password)
                return False
            return self._hasher.verify(encoded, password)
        except (VerificationError, InvalidHashError, UnicodeEncodeError):
            # UnicodeEncodeError: a lone surrogate, which no stored password has.
            return False

    def needs_rehash(self, encoded: str) -> bool:
        return self._hasher.check_needs_rehash(encoded)


@dataclass(frozen=True, slots=True)
class PolicyViolation:
    """One broken rule, with its text in both languages."""

    rule: str
    message_ja: str
    message_en: str


def policy_violations(password: str, *, auth_id: str) -> list[PolicyViolation]:
    """The agency's rule: 8-32 half-width characters mixing letters, digits and the
    symbols $%&=@_#*+-?!, case-sensitive, not containing the 認証ID."""
    problems: list[PolicyViolation] = []
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        problems.append(
            PolicyViolation(
                "length",
                f"{MIN_LENGTH}文字以上{MAX_LENGTH}文字以下で入力してください。",
                f"Use {MIN_LENGTH} to {MAX_LENGTH} characters.",
            )
        )
    allowed = set(SYMBOLS)
    if any(not (c.isascii() and (c.isalnum() or c in allowed)) for c in password):
        problems.append(
            PolicyViolation(
                "characters",
                f"半角英字・半角数字・記号（{SYMBOLS}）以外は使用できません。",
                f"Use only half-width letters, digits and the symbols {SYMBOLS}.",
            )
        )
    kinds = (
        any(c.isascii() and c.isalpha() for c in password),
        any(c.isascii() and c.isdigit() for c in password),
        any(c in allowed for c in password),
    )
    if not all(kinds):
        problems.append(
            PolicyViolation(
                "mix",
                "半角英字・半角数字・記号をそれぞれ1文字以上含めてください。",
                "Mix half-width letters, digits and symbols (at least one of each).",
            )
        )
    if auth_id and auth_id.upper() in password.upper():
        problems.append(
            PolicyViolation(
                "contains_auth_id",
                "認証IDを含むパスワードは使用できません。",
                "The password must not contain the auth ID.",
            )
        )
    return problems
