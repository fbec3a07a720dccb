"""Password policy and argon2id parameters."""

import asyncio
import os
import threading
import time

import pytest

from security.common_passwords import _ranks, is_common
from security.passwords import (
    Argon2idHasher,
    PasswordRule,
    policy_violations,
    reused,
    rule_texts,
)
from security.policy import Policy
from tests.support import CHEAP_ARGON2, CountingHasher

POLICY = Policy()


@pytest.mark.parametrize("password", ["Sakura2026$", "a1!aaaaa", "Z" * 30 + "1?"])
def test_policy_accepts_mixed_passwords(password: str) -> None:
    assert policy_violations(password, auth_id="ABCDEFGHJK", policy=POLICY) == []


@pytest.mark.parametrize(
    ("password", "rules"),
    [
        ("a1!", ["length"]),
        ("a1!" + "a" * 30, ["length"]),
        ("abcdefgh", ["mix"]),
        ("abcd1234", ["mix", "common"]),
        ("abcd123^", ["characters", "mix"]),
        ("ａbc1234!", ["characters"]),
        ("xabcdefghjk1!", ["contains_auth_id"]),
    ],
)
def test_policy_names_each_broken_rule(password: str, rules: list[str]) -> None:
    broken = [
        v.rule for v in policy_violations(password, auth_id="ABCDEFGHJK", policy=POLICY)
    ]

    assert broken == rules


async def test_hash_uses_argon2id_with_the_configured_parameters(
    real_hasher: CountingHasher,
) -> None:
    encoded = await real_hasher.hash("Sakura2026$")

    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await real_hasher.verify(encoded, "Sakura2026$")
    assert not await real_hasher.verify(encoded, "sakura2026$")
    assert not await real_hasher.verify("not a hash", "Sakura2026$")
    assert not await real_hasher.verify(None, "Sakura2026$")


def test_stronger_parameters_ask_for_a_rehash(real_hasher: CountingHasher) -> None:
    stronger = Argon2idHasher(time_cost=3, memory_kib=19456, parallelism=1)
    old = real_hasher._hasher.hash("x")

    assert stronger.needs_rehash(old)
    assert not real_hasher.needs_rehash(old)


@pytest.mark.parametrize(
    "password",
    [
        "P@ssw0rd",
        "Password1!",
        "P@ssw0rd1!",
        "P@ssword1",
        "Pa$$w0rd1",
        "Welc0me1!",
        "@dmin2026!",
        "$unshine1!",
        "4dmin123#",
        "5unshine1!",
    ],
)
def test_common_passwords_with_l33t_and_digits_around_them_are_refused(
    password: str,
) -> None:
    broken = [
        v.rule for v in policy_violations(password, auth_id="ABCDEFGHJK", policy=POLICY)
    ]

    assert "common" in broken


def test_a_password_merely_containing_a_common_word_is_accepted() -> None:
    assert policy_violations("Sakura2026$", auth_id="ABCDEFGHJK", policy=POLICY) == []


def test_the_reuse_rule_names_how_many_before_the_current_one() -> None:
    texts = {t.rule: t for t in rule_texts(Policy(password_history=3))}

    assert "2 before it" in texts[PasswordRule.RECENTLY_USED].message_en
    assert "過去2回分" in texts[PasswordRule.RECENTLY_USED].message_ja


class _Counting:
    """A hasher stand-in that matches one stored value and counts checks."""

    def __init__(self) -> None:
        self.calls = 0

    async def hash(self, password: str) -> str:
        return password

    async def verify(self, encoded: str | None, password: str) -> bool:
        self.calls += 1
        return encoded == password

    def needs_rehash(self, encoded: str) -> bool:
        return False


async def test_reuse_checks_every_hash_whatever_matches_first() -> None:
    hasher = _Counting()

    assert await reused(hasher, "a", ["a", "b", "c"])
    assert hasher.calls == 3  # the time does not tell which one matched


def test_an_overlong_common_password_is_refused_for_its_length_only() -> None:
    broken = [
        v.rule
        for v in policy_violations("Password1!" + "1" * 30, auth_id="", policy=POLICY)
    ]

    assert broken == [PasswordRule.LENGTH]


def test_the_base_rank_bound_is_inclusive() -> None:
    rank = _ranks()["qwerty"]

    assert is_common("!qwerty2", base_rank=rank)
    assert not is_common("!qwerty2", base_rank=rank - 1)


@pytest.mark.parametrize("password", ["@dmin!", "@dmin1", "P@ssw0rd"])
def test_l33t_is_undone_before_and_after_stripping(password: str) -> None:
    assert is_common(password, base_rank=1000)


class _ConcurrencyHasher(Argon2idHasher):
    """Records how many verifications ran at once, and at what priority."""

    def __init__(self, **kwargs: int) -> None:
        super().__init__(**CHEAP_ARGON2, **kwargs)
        self.running = self.most = 0
        self.priorities: set[int] = set()
        self._lock = threading.Lock()

    def _verify_sync(self, encoded: str | None, password: str) -> bool:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.priorities.add(
                os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            )
        time.sleep(0.05)  # long enough for every submitted check to pile up
        with self._lock:
            self.running -= 1
        return super()._verify_sync(encoded, password)


async def test_hashing_runs_on_its_own_pool_of_threads_at_a_lower_priority() -> None:
    hasher = _ConcurrencyHasher(threads=2, nice=5)
    encoded = await hasher.hash("Sakura2026$")
    loop_priority = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    results = await asyncio.gather(
        *(hasher.verify(encoded, "Sakura2026$") for _ in range(6))
    )

    assert results == [True] * 6
    # Never more checks at once than threads (the default executor has cores + 4).
    assert hasher.most == 2
    assert hasher.priorities == {min(loop_priority + 5, 19)}
