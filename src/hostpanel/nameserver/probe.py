"""Asking the nameserver what it serves: the SOA serial of a zone, over UDP (TCP when the answer is truncated).

The UDP socket is connected, so a nameserver that is not listening is known at once (the kernel reports the
refused port) instead of after a timeout.
"""

from __future__ import annotations

import socket

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
from dns.rdtypes.ANY.SOA import SOA

TIMEOUT = 1.0


class DnsProbe:
    """The panel's view of its nameserver (see `domain.dns.service.Nameserver`)."""

    def __init__(self, address: tuple[str, int], timeout: float = TIMEOUT) -> None:
        self._host, self._port = address
        self._timeout = timeout

    @property
    def address(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self._port}"

    def serial(self, zone: str) -> int | None:
        name = dns.name.from_text(zone)
        query = dns.message.make_query(name, dns.rdatatype.SOA)
        query.flags &= ~dns.flags.RD  # an authoritative question: no recursion
        try:
            response = self._udp(query)
            if response.flags & dns.flags.TC:
                response = dns.query.tcp(query, self._host, port=self._port, timeout=self._timeout)
        except (OSError, dns.exception.DNSException):
            return None
        if response.rcode() != dns.rcode.NOERROR or not response.flags & dns.flags.AA:
            return None
        for rrset in response.answer:
            if rrset.name == name and rrset.rdtype == dns.rdatatype.SOA:
                for rdata in rrset:
                    if isinstance(rdata, SOA):
                        return int(rdata.serial)
        return None

    def answers(self) -> bool:
        """Whether anything answers DNS there at all (any answer, even a refusal)."""
        query = dns.message.make_query("hostpanel.invalid.", dns.rdatatype.SOA)
        try:
            self._udp(query)
        except (OSError, dns.exception.DNSException):
            return False
        return True

    def _udp(self, query: dns.message.Message) -> dns.message.Message:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(self._timeout)
            sock.connect((self._host, self._port))
            sock.send(query.to_wire())
            while True:  # a stray datagram (an earlier answer) is not this one's
                response = dns.message.from_wire(sock.recv(65535))
                if query.is_response(response):
                    return response
