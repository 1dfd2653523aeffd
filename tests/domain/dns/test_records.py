"""Records from input: names relative or absolute, cPanel's data fields, and everything refused that is not valid."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.dns.records import Record, owner_name, parse_ttl, relative, target_name
from hostpanel.domain.errors import InvalidInput

ZONE = "alice.test"


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("_acme-challenge", "_acme-challenge.alice.test"),
        ("_acme-challenge.shop", "_acme-challenge.shop.alice.test"),
        ("_acme-challenge.alice.test.", "_acme-challenge.alice.test"),
        ("WWW", "www.alice.test"),
        ("@", "alice.test"),
        ("alice.test.", "alice.test"),
        ("*.shop", "*.shop.alice.test"),
        # cPanel's rule: without the final dot a name is relative, even one that looks absolute.
        ("_acme-challenge.alice.test", "_acme-challenge.alice.test.alice.test"),
    ],
)
def test_names_follow_the_zone_files_rule(given_name: str, expected: str) -> None:
    assert owner_name(given_name, ZONE) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        " ",
        "www.bob.test.",
        "alice.test.evil.",
        "a..b",
        "-x",
        "x-",
        "a b",
        "a\nb",
        "x;y",
        "a*.b",
        "*.*",
        "é",
        "a" * 64,
    ],
)
def test_names_outside_the_zone_or_not_host_names_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        owner_name(bad, ZONE)


def test_the_zone_file_shows_names_relative_to_the_zone() -> None:
    assert relative("alice.test", ZONE) == "@"
    assert relative("_acme-challenge.shop.alice.test", ZONE) == "_acme-challenge.shop"


def test_targets_may_be_anywhere_but_must_be_host_names() -> None:
    assert target_name("mail", ZONE) == "mail.alice.test."
    assert target_name("mx.example.net.", ZONE) == "mx.example.net."
    assert target_name(".", ZONE) == "."
    for bad in ("mx example.net.", "a\tb.", '"quoted".', "x;y.", "(paren).", "a\\b."):
        with pytest.raises(InvalidInput):
            target_name(bad, ZONE)


@pytest.mark.parametrize(
    ("kind", "fields", "shown"),
    [
        ("A", ["192.0.2.10"], ("192.0.2.10",)),
        ("AAAA", ["2001:DB8:0:0::1"], ("2001:db8::1",)),
        ("CNAME", ["www"], ("www.alice.test.",)),
        ("MX", ["10", "mail.example.net."], ("10", "mail.example.net.")),
        ("SRV", ["0", "5", "5060", "sip"], ("0", "5", "5060", "sip.alice.test.")),
        ("TXT", ["v=spf1 -all"], ("v=spf1 -all",)),
        ("TXT", ['quote " and back\\slash', "second"], ('quote " and back\\slash', "second")),
        ("CAA", ["0", "issue", "letsencrypt.org"], ("0", "issue", "letsencrypt.org")),
        ("NS", ["ns1.example.net."], ("ns1.example.net.",)),
    ],
)
def test_data_fields_round_trip_in_cpanels_form(kind: str, fields: list[str], shown: tuple[str, ...]) -> None:
    record = Record.parse(ZONE, "x", 300, kind, fields)
    assert (record.name, record.ttl, record.type, record.fields) == ("x.alice.test", 300, kind, shown)


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("A", ["999.1.1.1"], "not a valid IPv4 address"),
        ("A", ["192.0.2.1", "192.0.2.2"], "takes 1 data field"),
        ("A", ["::1"], "not a valid IPv4 address"),
        ("AAAA", ["192.0.2.1"], "not a valid IPv6 address"),
        ("MX", ["70000", "mail"], "from 0 to 65535"),
        ("MX", ["ten", "mail"], "from 0 to 65535"),
        ("CNAME", ["."], "not the root"),
        ("CAA", ["0", "iss ue", "x"], "not a CAA tag"),
        ("TXT", [], "needs some text"),
        ("TXT", ["line\nbreak"], "control characters"),
        ("TXT", ["nul\0"], "control characters"),
        ("TXT", ["x" * 4001], "at most 4000 bytes"),
        ("HINFO", ["a", "b"], "not a record type"),
        ("A6", ["x"], "not a record type"),
    ],
)
def test_invalid_data_is_refused_with_a_clear_message(kind: str, fields: list[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Record.parse(ZONE, "x", 300, kind, fields)


def test_long_txt_is_split_into_strings_of_255_bytes_as_cpanel_does() -> None:
    record = Record.parse(ZONE, "dkim._domainkey", 300, "TXT", ["k" * 600])
    assert [len(part) for part in record.fields] == [255, 255, 90]
    multibyte = Record.parse(ZONE, "x", 300, "TXT", ["é" * 200])  # 400 bytes: cut between characters
    assert "".join(multibyte.fields) == "é" * 200 and all(len(p.encode()) <= 255 for p in multibyte.fields)


@pytest.mark.parametrize("ttl", ["1", 60, "2147483647"])
def test_ttls_are_kept_as_given(ttl: object) -> None:
    assert parse_ttl(ttl) == int(str(ttl))


@pytest.mark.parametrize("ttl", ["0", "-1", "2147483648", "1e3", "60s", " ", "٣", True, None, 1.5])
def test_ttls_out_of_bounds_or_not_digits_are_refused(ttl: object) -> None:
    with pytest.raises(InvalidInput, match="Time-To-Live"):
        parse_ttl(ttl)


@given(st.text(max_size=300))
def test_any_txt_text_is_either_refused_or_kept_exactly(text: str) -> None:
    try:
        record = Record.parse(ZONE, "x", 60, "TXT", [text])
    except InvalidInput:
        return
    assert "".join(record.fields) == text
    assert "\n" not in record.text and "\r" not in record.text  # no line of a zone file can be forged


@given(st.text(max_size=80))
def test_any_name_is_either_refused_or_inside_the_zone(text: str) -> None:
    try:
        name = owner_name(text, ZONE)
    except InvalidInput:
        return
    assert name == ZONE or name.endswith("." + ZONE)
    assert name.isascii() and not any(char.isspace() for char in name)
