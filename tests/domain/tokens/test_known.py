"""The set of keys that exist: never a false negative, whatever was added when."""

from __future__ import annotations

import os
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.tokens import known
from hostpanel.domain.tokens.known import KnownKeys

keys = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=12, max_size=12)


@given(st.sets(keys, max_size=200), st.lists(keys, max_size=200), st.sets(keys, max_size=50))
def test_every_key_loaded_or_added_is_found(loaded: set[str], added: list[str], others: set[str]) -> None:
    found = KnownKeys(loaded)
    for key in added:
        found.add(key)
    assert all(found.may_contain(key) for key in [*loaded, *added])
    # Fingerprints are 64 bits: a key never added is (all but certainly) refused.
    assert not any(found.may_contain(key) for key in others - loaded - set(added))


def test_additions_merged_into_the_array_are_still_found() -> None:
    found = KnownKeys(f"k{n:011d}" for n in range(1000))
    added = [f"a{n:011d}" for n in range(known._MERGE_AT * 2 + 7)]
    for key in added:
        found.add(key)
    assert len(found) == 1000 + len(added)
    assert found.nbytes >= 8 * (1000 + known._MERGE_AT * 2)
    assert all(found.may_contain(key) for key in added)
    assert found.may_contain("k00000000999") and not found.may_contain("k00000001000")


def test_fingerprints_cannot_be_predicted_even_with_a_fixed_hash_seed() -> None:
    """Were fingerprints `hash(key)` alone, a fixed PYTHONHASHSEED would let anyone compute them offline and make
    keys that collide with stored ones (each costing a database read). Two processes with the same seed disagree."""
    program = "from hostpanel.domain.tokens.known import KnownKeys; print(KnownKeys(['k' * 12])._sorted.tolist())"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    runs = {
        subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert len(runs) == 2
