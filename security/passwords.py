"""Password hashing (argon2id, off the event loop) and the password policy."""

import asyncio
import contextlib
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError

from security.common_passwords import is_common
from security.policy import Policy
from telemetry import metrics

T = TypeVar("T")

SYMBOLS = "$%&=@_#*+-?!"


class PasswordHasher(Protocol):
    """The seam the resolvers use; every method runs the CPU work off the loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, encoded: str | None, password: str) -> bool: ...

    def needs_rehash(self, encoded: str) -> bool: ...


class Argon2idHasher:
    """argon2id via argon2-cffi in a pool of its own (argon2 releases the GIL).

    The pool has ``threads`` threads (by default one per core), not the
    default executor's cores + 4: more hashing threads than cores only queue
    in the kernel, starving the event loop that answers every other request,
    while the hashes come out no sooner. With ``nice`` above 0 the hashing
    threads also run at a lower OS priority than the event loop (Linux:
    per-thread nice), so that requests keep being answered while logins
    saturate the cores.
    """

    def __init__(
        self,
        *,
        time_cost: int,
        memory_kib: int,
        parallelism: int,
        threads: int = 0,
        nice: int = 0,
    ) -> None:
        self._threads = threads or os.cpu_count() or 1
        self._nice = nice
        self._pool: ThreadPoolExecutor | None = None
        self._hasher = Argon2Hasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        # Verified against when the auth ID is unknown or has no password yet,
        # so that answer costs the same time as a wrong password.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def _executor(self) -> ThreadPoolExecutor:
        # Made on first use: in the process (and after the fork) that hashes.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self._threads,
                thread_name_prefix="argon2",
                initializer=self._lower_priority,
            )
        return self._pool

    def _lower_priority(self) -> None:
        if self._nice > 0 and hasattr(os, "setpriority"):
            with contextlib.suppress(OSError):
                # On Linux a thread is a process to setpriority: this thread
                # only, ``nice`` below the thread that made it (the loop's).
                thread = threading.get_native_id()
                current = os.getpriority(os.PRIO_PROCESS, thread)
                os.setpriority(os.PRIO_PROCESS, thread, min(19, current + self._nice))

    async def hash(self, password: str) -> str:
        return await self._pooled(self._hasher.hash, password)

    async def verify(self, encoded: str | None, password: str) -> bool:
        return await self._pooled(self._verify_sync, encoded, password)

    async def _pooled(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` on the pool, counted in the hashing queue's gauge
        while it waits for a thread and timed when it runs."""
        # Whoever pops first (the job starting, or a cancelled wait that kept
        # it from starting) takes it off the gauge: exactly once either way.
        waiting = [True]

        def leave_queue() -> None:
            with contextlib.suppress(IndexError):
                waiting.pop()
                metrics.HASH_QUEUE.dec()

        def job() -> T:
            leave_queue()
            started = time.perf_counter()
            try:
                return work(*args)
            finally:
                metrics.HASH_SECONDS.observe(time.perf_counter() - started)

        metrics.HASH_QUEUE.inc()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._executor(), job
            )
        finally:
            leave_queue()

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


class PasswordRule(StrEnum):
    """One rule of the password policy."""

    LENGTH = "length"
    CHARACTERS = "characters"
    MIX = "mix"
    CONTAINS_AUTH_ID = "contains_auth_id"
    COMMON = "common"
    RECENTLY_USED = "recently_used"


@dataclass(frozen=True, slots=True)
class PolicyViolation:
    """One rule, with its text in both languages (what a broken rule says)."""

    rule: PasswordRule
    message_ja: str
    message_en: str


def rule_texts(policy: Policy) -> list[PolicyViolation]:
    """Every rule as the portals explain it, in both languages."""
    low, high, kept = (
        policy.password_min_length,
        policy.password_max_length,
        policy.password_history,
    )
    return [
        PolicyViolation(
            PasswordRule.LENGTH,
            f"{low}文字以上{high}文字以下で入力してください。",
            f"Use {low} to {high} characters.",
        ),
        PolicyViolation(
            PasswordRule.CHARACTERS,
            f"半角英字（大文字と小文字は区別されます）・半角数字・記号（{SYMBOLS}）"
            "以外は使用できません。",
            "Use only half-width letters (upper and lower case are different), "
            f"digits and the symbols {SYMBOLS}.",
        ),
        PolicyViolation(
            PasswordRule.MIX,
            "半角英字・半角数字・記号をそれぞれ1文字以上含めてください。",
            "Mix half-width letters, digits and symbols (at least one of each).",
        ),
        PolicyViolation(
            PasswordRule.CONTAINS_AUTH_ID,
            "認証IDを含むパスワードは使用できません。",
            "The password must not contain the auth ID.",
        ),
        PolicyViolation(
            PasswordRule.COMMON,
            "よく使われているパスワード（又はそれに数字・記号を加えただけのもの）は"
            "使用できません。",
            "Do not use a common password (or one with only digits and symbols "
            "added to it).",
        ),
        PolicyViolation(
            PasswordRule.RECENTLY_USED,
            f"現在のパスワード及び過去{kept - 1}回分のパスワードは使用できません。"
            if kept > 1
            else "現在のパスワードは使用できません。",
            f"Do not reuse your current password or any of the {kept - 1} before it."
            if kept > 1
            else "Do not reuse your current password.",
        ),
    ]


def policy_violations(
    password: str, *, auth_id: str, policy: Policy
) -> list[PolicyViolation]:
    """The rules ``password`` breaks, in the order of ``rule_texts`` (all but
    RECENTLY_USED, which needs the stored hashes: see ``reused``).

    The agency's rule: 8-32 half-width characters mixing letters, digits and the
    symbols $%&=@_#*+-?!, case-sensitive, not containing the 認証ID; and not a
    common password.
    """
    texts = {text.rule: text for text in rule_texts(policy)}
    broken: list[PasswordRule] = []
    if not policy.password_min_length <= len(password) <= policy.password_max_length:
        broken.append(PasswordRule.LENGTH)
    allowed = set(SYMBOLS)
    if any(not (c.isascii() and (c.isalnum() or c in allowed)) for c in password):
        broken.append(PasswordRule.CHARACTERS)
    kinds = (
        any(c.isascii() and c.isalpha() for c in password),
        any(c.isascii() and c.isdigit() for c in password),
        any(c in allowed for c in password),
    )
    if not all(kinds):
        broken.append(PasswordRule.MIX)
    if auth_id and auth_id.upper() in password.upper():
        broken.append(PasswordRule.CONTAINS_AUTH_ID)
    if len(password) <= policy.password_max_length and is_common(
        password, base_rank=policy.common_password_base_rank
    ):
        broken.append(PasswordRule.COMMON)
    return [texts[rule] for rule in broken]


async def reused(
    hasher: PasswordHasher, password: str, hashes: Sequence[str | None]
) -> bool:
    """Whether ``password`` is one of ``hashes`` (the current and earlier
    passwords). Every hash is verified, so the time does not tell which."""
    found = False
    for encoded in hashes:
        if encoded is not None and await hasher.verify(encoded, password):
            found = True
    return found
