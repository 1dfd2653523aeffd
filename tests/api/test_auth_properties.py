"""Properties of the `Authorization: cpanel USER:TOKEN` parser: total, and exact on what it accepts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hostpanel.api.auth import TOKEN_SCHEMES, parse_authorization

users = st.text(min_size=1, max_size=30).filter(lambda u: ":" not in u and u.strip() == u and " " not in u and u)
secrets_ = st.text(min_size=1, max_size=80).filter(lambda t: t.strip() == t and t)


@given(st.one_of(st.none(), st.text(max_size=300)))
def test_parsing_never_raises(header: str | None) -> None:
    result = parse_authorization(header)
    assert result is None or (result[0] and result[1])


@given(st.sampled_from(TOKEN_SCHEMES), st.booleans(), users, secrets_)
def test_user_and_token_come_back_exactly(scheme: str, upper: bool, user: str, token: str) -> None:
    header = f"{scheme.upper() if upper else scheme} {user}:{token}"
    assert parse_authorization(header) == (user, token)


@given(
    st.text(min_size=1, max_size=10).filter(lambda s: s.lower() not in TOKEN_SCHEMES and " " not in s), users, secrets_
)
def test_other_schemes_are_refused(scheme: str, user: str, token: str) -> None:
    assert parse_authorization(f"{scheme} {user}:{token}") is None
