"""The zone file's lines, batches planned by line, the rules a zone keeps, serials, and zone files in and out."""

from __future__ import annotations

import datetime

import pytest

from hostpanel.domain.dns.records import Record
from hostpanel.domain.dns.zone import (
    FIRST_LINE,
    SOA_LINE,
    Entry,
    Zone,
    ZoneTemplate,
    check,
    default_zone,
    next_serial,
    parse_text,
    plan,
)
from hostpanel.domain.errors import InvalidInput

ZONE = "alice.test"
TEMPLATE = ZoneTemplate((), "192.0.2.10", "2001:db8::10")


def txt(name: str, value: str) -> Record:
    return Record.parse(ZONE, name, 60, "TXT", [value])


def zone_of(*records: Record) -> Zone:
    soa, defaults = default_zone(ZONE, TEMPLATE, 2026010100)
    entries = [Entry(i + 2, record) for i, record in enumerate([*defaults, *records])]
    return Zone(ZONE, Entry(1, soa), tuple(entries))


def test_a_new_zone_holds_what_cpanel_puts_in_one() -> None:
    soa, records = default_zone(ZONE, TEMPLATE, 2026010100)
    assert soa.fields == ("ns1.alice.test.", "hostmaster.alice.test.", "2026010100", "3600", "1800", "1209600", "86400")
    kinds = {(r.name, r.type, r.fields) for r in records}
    assert ("alice.test", "NS", ("ns1.alice.test.",)) in kinds and ("alice.test", "NS", ("ns2.alice.test.",)) in kinds
    for host in ("alice.test", "www.alice.test", "mail.alice.test", "ns1.alice.test"):  # glue for in-zone servers
        assert (host, "A", ("192.0.2.10",)) in kinds and (host, "AAAA", ("2001:db8::10",)) in kinds
    assert ("alice.test", "MX", ("0", "mail.alice.test.")) in kinds
    assert ("alice.test", "TXT", ("v=spf1 +a +mx ~all",)) in kinds
    outside = default_zone(ZONE, ZoneTemplate(("ns1.host.example",), "192.0.2.10", None), 1)[1]
    assert [r.fields for r in outside if r.type == "NS"] == [("ns1.host.example.",)]
    assert not any(r.type == "AAAA" or r.name.startswith("ns") for r in outside)  # no glue outside the zone


def test_lines_head_soa_then_records_in_order() -> None:
    zone = zone_of(txt("_acme-challenge", "a"))
    lines = zone.lines()
    assert [(line.index, line.kind) for line in lines[:4]] == [
        (0, "comment"),
        (1, "comment"),
        (2, "control"),
        (3, "record"),
    ]
    assert lines[0].text.startswith("; cPanel first") and lines[2].text == "$TTL 14400"
    assert lines[3].record.type == "SOA" and lines[3].count == FIRST_LINE - SOA_LINE
    assert [line.index for line in lines[4:]] == list(range(FIRST_LINE, FIRST_LINE + len(zone.entries)))
    assert lines[-1].record.fields == ("a",)


def test_the_zone_file_is_valid_bind_syntax_and_reads_back_the_same() -> None:
    zone = zone_of(
        txt("_acme-challenge", 'a "quoted" value'), Record.parse(ZONE, "x", 1, "CAA", ["0", "issue", "ca.test"])
    )
    text = zone.text()
    assert text.splitlines()[3] == "alice.test.\t86400\tIN\tSOA\tns1.alice.test.\thostmaster.alice.test.\t("
    assert "\t\t\t\t\t\t2026010100 ;Serial Number" in text.splitlines()
    soa, records = parse_text(ZONE, text)
    assert soa is not None and soa.fields[2] == "2026010100"
    assert sorted((r.name, r.type, r.fields, r.ttl) for r in records) == sorted(
        (e.record.name, e.record.type, e.record.fields, e.record.ttl) for e in zone.entries
    )


def test_a_batch_edits_in_place_removes_lines_and_appends_adds() -> None:
    zone = zone_of(txt("a", "1"), txt("b", "2"), txt("c", "3"))
    first = FIRST_LINE + len(zone.entries) - 3  # the line of "a"
    batch = plan(zone, adds=[txt("d", "4")], edits=[(first + 2, txt("c", "33"))], removes=[first])
    assert [r.fields[0] for r in batch.result[-3:]] == ["2", "33", "4"]
    kinds = sorted((c.before is not None, c.after is not None) for c in batch.changes)
    assert kinds == [(False, True), (True, False), (True, True)]


@pytest.mark.parametrize(
    ("edits", "removes", "message"),
    [
        ([], [SOA_LINE], "SOA record"),
        ([], [0], "No record exists at line 0"),
        ([], [5], "No record exists at line 5"),  # inside the SOA's lines
        ([], [999], "No record exists at line 999"),
        ([(FIRST_LINE, None)], [FIRST_LINE], "multiple edits for line index"),
        ([], [FIRST_LINE, FIRST_LINE], "multiple edits for line index"),
    ],
)
def test_lines_that_hold_no_record_or_come_twice_are_refused(
    edits: list[tuple[int, None]], removes: list[int], message: str
) -> None:
    zone = zone_of()
    with pytest.raises(InvalidInput, match=message):
        plan(zone, edits=[(line, txt("x", "y")) for line, _ in edits], removes=removes)


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one change"):
        plan(zone_of())


def test_the_zone_keeps_an_apex_ns_no_data_beside_a_cname_and_a_size() -> None:
    records = [e.record for e in zone_of().entries]
    check(ZONE, records, 1000)
    no_ns = [r for r in records if not (r.type == "NS" and r.name == ZONE)]
    with pytest.raises(InvalidInput, match="at least one “NS” record"):
        check(ZONE, no_ns, 1000)
    cname_beside_a = [*records, Record.parse(ZONE, "www", 60, "CNAME", ["alice.test."])]
    with pytest.raises(InvalidInput, match="has a CNAME record, so it cannot have other records"):
        check(ZONE, cname_beside_a, 1000)
    two_cnames = [*records, *(Record.parse(ZONE, "x", 60, "CNAME", [t]) for t in ("a.test.", "b.test."))]
    with pytest.raises(InvalidInput, match="only one CNAME"):
        check(ZONE, two_cnames, 1000)
    with pytest.raises(InvalidInput, match="at apex|at least one"):
        check(ZONE, [*no_ns, Record.parse(ZONE, "@", 60, "CNAME", ["elsewhere.test."])], 1000)
    with pytest.raises(InvalidInput, match="at most 10 records"):
        check(ZONE, records[:9] + [txt("x", str(n)) for n in range(5)], 10)


def test_the_serial_follows_cpanels_rule() -> None:
    day = datetime.datetime(2026, 12, 3, 23, 59, tzinfo=datetime.UTC).timestamp()
    assert next_serial(0, day) == 2026120300
    assert next_serial(2026120300, day) == 2026120301
    assert next_serial(2026120399, day) == 2026120400  # past today's hundred edits: it just goes on
    assert next_serial(2025010107, day) == 2026120300
    assert next_serial(4294967295, day) == 0  # serials wrap (RFC 1982)


def test_zone_files_that_cannot_be_read_or_hold_other_things_are_refused() -> None:
    for text, message in (
        ("alice.test. 60 IN A\n", "cannot be read"),
        ("www.bob.test. 60 IN A 192.0.2.1\n", "outside the zone alice.test"),
        ("$ORIGIN bob.test.\nwww 60 IN A 192.0.2.1\n", "outside the zone alice.test"),
        ("www.alice.test. 60 IN SOA a. b. 1 2 3 4 5\n", "cannot be read"),
        ("x.alice.test. 60 IN HINFO a b\n", "HINFO record"),
        ("x.alice.test. 60 IN A 999.0.0.1\n", "cannot be read|not a valid IPv4"),
    ):
        with pytest.raises(InvalidInput, match=message):
            parse_text(ZONE, text)
