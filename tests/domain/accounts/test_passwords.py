"""argon2id hashing and the strength policy with its reasons."""

from __future__ import annotations

import pytest

from hostpanel.domain.accounts.passwords import HashingCost, PasswordHasher, check_strength
from hostpanel.domain.errors import InvalidInput

CHEAP = HashingCost(time_cost=1, memory_kib=8, parallelism=1)


def test_hash_is_argon2id_and_verifies() -> None:
    hasher = PasswordHasher(CHEAP)
    stored = hasher.hash("Correct-Horse-Battery-9")
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "Correct-Horse-Battery-9")
    assert not hasher.verify(stored, "correct-horse-battery-9")
    assert not hasher.verify(None, "Correct-Horse-Battery-9")
    assert not hasher.verify("not a hash", "x")


def test_rehash_when_cost_changes() -> None:
    stored = PasswordHasher(CHEAP).hash("Correct-Horse-Battery-9")
    assert PasswordHasher(HashingCost(time_cost=2, memory_kib=8, parallelism=1)).needs_rehash(stored)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "at least 10 characters"),
        ("alice-Rocks-2026!", "may not contain the username"),
        ("password123", "too weak"),
        ("qwertyuiop", "too weak"),
        ("x" * 1025, "at most 1024"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        check_strength(password, "alice")


def test_strong_password_passes() -> None:
    check_strength("Correct-Horse-Battery-9", "alice")
