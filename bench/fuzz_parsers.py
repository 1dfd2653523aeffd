"""Coverage-guided fuzzing (atheris) of the parsers that read untrusted bytes before any authentication.

Targets: the token parser and scanner, the `Authorization` header parser, and the UAPI argument parser. Each input
must be answered without an exception other than the parser's own refusal, and whatever is accepted must satisfy
the format's invariants. Run through `scripts/fuzz` (which installs atheris), e.g.:

    scripts/fuzz -atheris_runs=200000
"""

from __future__ import annotations

import atexit
import sys
import time

import atheris

with atheris.instrument_imports(include=["hostpanel"]):
    from hostpanel.api.auth import parse_authorization
    from hostpanel.domain.tokens import secret
    from hostpanel.http.body import BadArguments, parse_arguments

_started = time.monotonic()
_runs = 0


def check_token(text: str) -> None:
    parsed = secret.parse(text)
    if parsed is not None:
        assert len(text) == secret.TOKEN_LENGTH and text.startswith(secret.PREFIX + parsed.key + "_")
        assert secret.checksum(text[: -secret.CHECKSUM_LENGTH]) == text[-secret.CHECKSUM_LENGTH :]
    for found in secret.find_all(text):
        assert found.text in text and secret.parse(found.text) == found


def check_header(text: str) -> None:
    for header in (text, f"cpanel {text}", f"WHM {text}"):
        result = parse_authorization(header)
        if result is not None:
            user, token = result
            assert user and token and ":" not in user


def check_arguments(raw: bytes) -> None:
    try:
        pairs = parse_arguments(raw, "fuzz input")
    except BadArguments:
        return
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in pairs)


def well_formed(provider: atheris.FuzzedDataProvider) -> str:
    """A token whose key and secret come from the input, with a correct checksum: gets past the cheap refusals."""
    body_length = secret.KEY_LENGTH + secret.SECRET_LENGTH
    picks = provider.ConsumeBytes(body_length).ljust(body_length, b"\0")
    chars = "".join(secret.ALPHABET[b % len(secret.ALPHABET)] for b in picks)
    body = f"{secret.PREFIX}{chars[: secret.KEY_LENGTH]}_{chars[secret.KEY_LENGTH :]}"
    return body + secret.checksum(body)


def token_text(provider: atheris.FuzzedDataProvider) -> str:
    """Raw text, a well-formed token with some characters replaced, or well-formed tokens inside raw text."""
    mode = provider.ConsumeIntInRange(0, 2)
    if mode == 0:
        return str(provider.ConsumeUnicodeNoSurrogates(provider.ConsumeIntInRange(0, 256)))
    token = well_formed(provider)
    if mode == 1:
        chars = list(token)
        for _ in range(provider.ConsumeIntInRange(0, 3)):
            chars[provider.ConsumeIntInRange(0, len(chars) - 1)] = provider.ConsumeUnicodeNoSurrogates(1) or "_"
        return "".join(chars)
    around = str(provider.ConsumeUnicodeNoSurrogates(provider.ConsumeIntInRange(0, 64)))
    cut = provider.ConsumeIntInRange(0, len(around))
    return around[:cut] + token + around[cut:]


def test_one_input(data: bytes) -> None:
    global _runs  # noqa: PLW0603 - a counter for the closing figures
    _runs += 1
    provider = atheris.FuzzedDataProvider(data)
    raw = provider.ConsumeBytes(provider.ConsumeIntInRange(0, 512))
    text = token_text(provider)
    check_token(text)
    check_header(text)
    check_header(f"user:{text}")
    check_arguments(raw)


def _closing_figures() -> None:
    elapsed = time.monotonic() - _started
    print(f"atheris: {_runs} inputs in {elapsed:.1f} s ({_runs / max(elapsed, 1e-9):.0f}/s), no failure")


def main() -> None:
    atexit.register(_closing_figures)  # libFuzzer ends the process itself when the run is done
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
