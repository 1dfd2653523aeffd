"""parse_dns_zone and mass_edit_dns_zone: the zones of the caller's accounts read and edited as lego's WHM mode does.

They are UAPI's `DNS::parse_zone` and `DNS::mass_edit_zone` run as the account whose domain the zone is (through
the gate's delegate, so the same arguments, checks, serial, publication and audit record apply), on behalf of the
WHM caller: root on any zone, anyone else only on the zones of the accounts it owns. The answer moves into WHM's
envelope: the items under `data.payload`, the new serial as `data.new_serial`, a stale serial as a failure whose
`data` is `{"type": "Stale", "detail": null}`."""

from __future__ import annotations

from typing import Any

from hostpanel.functions.call import Call
from hostpanel.functions.registry import UAPI, Param
from hostpanel.modules.whm.module import module

# WHM's privilege to edit zones, and the one to edit records of them that resellers get from the start.
DNS_ACLS = ("edit-dns", "manage-dns-records")
ZONE = Param("zone", "A zone of one of the caller's accounts, e.g. example.com.", True)


def _as_owner(call: Call, function: str) -> Any:
    """The UAPI DNS function's data, called as the zone's account; its failure is this call's."""
    account, _ = call.services.provisioning.reach_zone(call.args.require("zone"))
    assert call.delegate is not None, "the gate hands every call its delegate"
    answer = call.delegate(account, "DNS", function, call.args, api=UAPI)
    if answer.error is not None:
        raise answer.error
    return answer.data


@module.whm(
    "parse_dns_zone",
    DNS_ACLS,
    "The zone as UAPI's DNS::parse_zone gives it, under `payload`: one item per record, comment or control line with "
    "its 0-based line_index, names and data in base64; the SOA serial is the SOA's third data item.",
    own_transactions=True,
    params=(ZONE,),
)
def parse_dns_zone(call: Call) -> dict[str, Any]:
    return {"payload": _as_owner(call, "parse_zone")}


@module.whm(
    "mass_edit_dns_zone",
    DNS_ACLS,
    "UAPI's DNS::mass_edit_zone through WHM: `add` and `edit` (JSON records, `edit` with line_index) and `remove` "
    "(line indexes), each repeatable, applied whole if `serial` is still the zone's; `new_serial` once the "
    'nameserver serves it. A stale serial fails with data {"type":"Stale","detail":null}.',
    writes=True,
    own_transactions=True,  # the DNS service's own, each confirmed with the nameserver
    params=(
        ZONE,
        Param("serial", "The zone's serial as parse_dns_zone read it.", True),
        Param("add", 'A record to add: {"dname","ttl","record_type","data":[...]}', repeated=True),
        Param("edit", "A record to put in place of the one at line_index: as add, with line_index.", repeated=True),
        Param("remove", "The line_index of a record to remove.", repeated=True, type="integer"),
    ),
)
def mass_edit_dns_zone(call: Call) -> dict[str, Any]:
    data: dict[str, Any] = _as_owner(call, "mass_edit_zone")
    return data
