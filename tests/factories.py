"""What tests build and check with, in one place: constants, a hand-moved clock, accounts and tokens, the UAPI
answer check, callers of the API and the pages, an SMTP inbox, and the PostgreSQL switch.

Fixtures live in the conftest files and use these; test modules import from here, never from each other.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import secrets
import socket
import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rdataclass
import dns.rdatatype
import httpx2
import pyotp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from dns.rdtypes.ANY.SOA import SOA
from httpx import Response
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from starlette.testclient import TestClient

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.tokens.importer import StoreFile, TokenImport
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.domain.tokens.restrictions import NO_RESTRICTIONS, Restrictions
from hostpanel.storage.engine import normalise_url
from hostpanel.storage.unit_of_work import SqlUnitOfWork

POSTGRES_ENV = "HOSTPANEL_TEST_POSTGRES_URL"
REDIS_ENV = "HOSTPANEL_TEST_REDIS_URL"
PASSWORD = "Correct-Horse-Battery-9"
START = 1_800_000_000.0
# The documented fields of a token record (Tokens::list, token list --json): a contract with scripts.
TOKEN_RECORD_FIELDS = {
    "name",
    "create_time",
    "expires_at",
    "expired",
    "has_full_access",
    "features",
    "scopes",
    "whitelist_ips",
    "fileman_paths",
    "email_domains",
    "read_only",
    "dns_names",
    "dns_types",
    "last_used",
    "last_used_ip",
    "rate_limit",
    "flags",
    "hp_rotated_at",
    "hp_rotating",
    "hp_old_secret_valid_until",
    "hp_old_secret_last_used",
    "hp_max_uses",
    "hp_uses",
    "hp_imported",
    "hp_cpanel_format",
    "hp_state",
}
# What `Tokens::list` adds to each record: the token's usage history.
TOKEN_USAGE_FIELDS = {"hp_calls", "hp_calls_by_module", "hp_calls_by_day", "hp_recent_addresses"}
# The address the in-process token checks come from.
IP = "192.0.2.1"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.value = now

    def now(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


# The database backends: SQLite always, PostgreSQL only when the environment names a server.


def backends() -> list[Any]:
    """Parameters for a fixture that runs its tests on each backend; the PostgreSQL one is skipped unless
    switched on."""
    reason = f"PostgreSQL variant off: set {POSTGRES_ENV}=postgresql://USER@HOST/DB to run it"
    postgres = pytest.param(
        "postgresql",
        marks=[pytest.mark.postgres] + ([] if os.environ.get(POSTGRES_ENV) else [pytest.mark.skip(reason=reason)]),
    )
    return ["sqlite", postgres]


@contextmanager
def own_postgres_database(purpose: str, worker_id: str) -> Iterator[str]:
    """An empty database of this checkout's and this test worker's own on the PostgreSQL server named by the
    environment, dropped afterwards; skips when the environment does not name one."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"set {POSTGRES_ENV} to run the PostgreSQL variant")
    url = make_url(normalise_url(base))
    # Per checkout and per test worker, so parallel runs (other checkouts, xdist workers) never share a database.
    checkout = hashlib.sha256(str(Path(__file__).resolve()).encode()).hexdigest()[:8]
    name = f"hostpanel_{purpose}_{checkout}_{worker_id}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # switched on but unreachable: fail, do not skip
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL is unreachable: {error}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# Accounts, tokens and what the container holds for them.


def make_account(container: Container, username: str = "alice", **kwargs: object) -> Account:
    with container.uow() as uow:
        account = container.accounts(uow).create(username, PASSWORD, **kwargs)  # type: ignore[arg-type]
        uow.commit()
    return account


def make_root(container: Container) -> Account:
    """Root, as `hostpanel init` makes it, with PASSWORD."""
    with container.uow() as uow:
        accounts = container.accounts(uow)
        accounts.ensure_root(PASSWORD)
        uow.commit()
        return accounts.root()


def make_reseller(container: Container, username: str, acls: frozenset[str], **kwargs: object) -> Account:
    """An account root made a reseller with these ACLs."""
    make_account(container, username, **kwargs)
    with container.uow() as uow:
        account = container.accounts(uow).set_acls(username, acls)
        uow.commit()
    return account


def make_whm_token(
    container: Container, owner: Account, name: str = "billing", acls: frozenset[str] | None = None
) -> IssuedToken:
    """A WHM token of root or a reseller (no `acls`: all of the owner's)."""
    with container.uow() as uow:
        principal = Principal(owner, AuthMethod.ADMIN, service=Service.WHM)
        issued = container.tokens(uow).create(principal, name, None, Permissions.full(), acls=acls)
        uow.commit()
    return issued


def whm_auth(username: str, token: str) -> dict[str, str]:
    return {"Authorization": f"whm {username}:{token}"}


def whm(response: httpx2.Response, result: int | None = 1) -> dict[str, Any]:
    """The body of a WHM API 1 answer: HTTP 200, the envelope, `metadata.result` an integer (and `result`)."""
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    metadata = body["metadata"]
    assert {"command", "version", "result", "reason"} <= set(metadata), body
    assert metadata["version"] == 1 and type(metadata["result"]) is int, body
    if result is not None:
        assert metadata["result"] == result, body
    return body


def make_token(
    container: Container,
    account: Account,
    name: str = "script",
    permissions: Permissions | None = None,
    expires_at: int | None = None,
    restrictions: Restrictions = NO_RESTRICTIONS,
    rate_limit: int | None = None,
    max_uses: int | None = None,
) -> IssuedToken:
    with container.uow() as uow:
        issued = container.tokens(uow).create(
            Principal.admin(account),
            name,
            expires_at,
            permissions or Permissions.full(),
            restrictions,
            rate_limit=rate_limit,
            max_uses=max_uses,
        )
        uow.commit()
    return issued


def rotate_token(container: Container, account: Account, name: str, grace_period: int) -> IssuedToken:
    with container.uow() as uow:
        issued = container.tokens(uow).rotate(Principal.admin(account), name, grace_period)
        uow.commit()
    return issued


def cpanel_token() -> str:
    """A token as cPanel makes one: 32 random characters from A-Z and 0-9."""
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(32))


def write_cpanel_store(path: Path, entries: dict[str, dict[str, Any]]) -> None:
    """A token store as cPanel writes it: `{"tokens": {sha512 hex: entry}}`, keyed by the given digests."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"tokens": entries}))


def cpanel_entry(name: str, created: int, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "create_time": created,
        "expires_at": None,
        "whitelist_ips": None,
        "has_full_access": 1,
        "features": [],
    }
    return {**entry, **extra}


def import_cpanel_tokens(container: Container, username: str, tokens: dict[str, str]) -> None:
    """Import cPanel tokens (name: the 32-character token) into the account's store, as `hostpanel tokens import`
    does from a cPanel server's files."""
    created = int(container.clock.now()) - 86400
    entries = {
        hashlib.sha512(token.encode()).hexdigest(): cpanel_entry(name, created) for name, token in tokens.items()
    }
    with container.uow() as uow:
        importer = TokenImport(uow, container.keys.keyring, container.clock, container.audit(uow))
        plan = importer.plan(
            [StoreFile(f"{username}.json", username, Service.CPANEL, json.dumps({"tokens": entries}))], {}
        )
        assert not plan.skipped, plan.skipped
        importer.apply(plan, "admin:import")
        uow.commit()


def enable_two_factor(container: Container, account: Account, clock: FakeClock) -> tuple[pyotp.TOTP, list[str]]:
    with container.uow() as uow:
        service = container.twofactor(uow)
        enrolment = service.generate(account)
        codes = service.enable(Principal.admin(account), enrolment.secret, pyotp.TOTP(enrolment.secret).at(clock.now()))
        uow.commit()
    clock.advance(30)  # the code that confirmed the set-up cannot be used again
    return pyotp.TOTP(enrolment.secret), codes


def flush_usage(container: Container) -> int:
    """Write the "last used" times the container holds (tests set the flush interval out of reach); how many."""
    return container.usage.flush(container.uow)


def authenticate(container: Container, user: str, token: str) -> Principal:
    return container.authenticator.authenticate(container.token_cache, user, token, IP)


def warm(container: Container, user: str, token: str) -> None:
    """Authenticate until the token is verified from memory (a PostgreSQL process trusts its cache once its
    listener runs)."""
    deadline = time.monotonic() + 10
    cache = container.token_cache
    while True:
        authenticate(container, user, token)
        loads = cache.loads
        authenticate(container, user, token)
        if cache.loads == loads:
            return
        assert time.monotonic() < deadline, "the cache never warmed"
        time.sleep(0.02)


@contextmanager
def statements(container: Container) -> Iterator[list[str]]:
    """The SQL statements the container's engine runs while the block runs."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(container.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(container.engine, "before_cursor_execute", record)


# The API: cPanel's `Authorization` header and its bare UAPI result object.

UAPI_KEYS = {"status", "data", "errors", "messages", "warnings", "metadata"}


def auth(username: str, token: str) -> dict[str, str]:
    return {"Authorization": f"cpanel {username}:{token}"}


def uapi(response: httpx2.Response, status: int | None = None, http: int = 200) -> dict[str, Any]:
    """The body of a UAPI answer, asserting cPanel's result object (and `status`, `http` when given)."""
    assert response.status_code == http, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert set(body) == UAPI_KEYS, body
    assert body["status"] in (0, 1)
    for key in ("errors", "messages", "warnings"):
        assert body[key] is None or (isinstance(body[key], list) and body[key]), body  # null, never []
    assert isinstance(body["metadata"], dict)
    if status is not None:
        assert body["status"] == status, body
    if body["status"] == 0:
        assert body["errors"], body
    return body


class Calls:
    """Calls one UAPI module as alice with one token, asserting cPanel's result object on every answer."""

    def __init__(self, client: TestClient, secret: str, module: str) -> None:
        self.client = client
        self.headers = auth("alice", secret)
        self.module = module

    def get(self, function: str, status: int | None = 1, **args: str) -> dict[str, Any]:
        response = self.client.get(f"/execute/{self.module}/{function}", params=args, headers=self.headers)
        return uapi(response, status=status)

    def post(self, function: str, status: int | None = 1, **args: str | list[str]) -> dict[str, Any]:
        response = self.client.post(f"/execute/{self.module}/{function}", data=args, headers=self.headers)
        return uapi(response, status=status)

    def error(self, function: str, **args: str) -> str:
        """The error of a call that fails; no data comes with it."""
        body = self.post(function, status=0, **args)
        assert body["data"] is None, body
        return str(body["errors"][0])


# The pages: a browser-like client.

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A browser-like client for the web pages: keeps cookies, reads each page's CSRF token, follows the forms."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.token = ""

    def _remember(self, response: Response) -> Response:
        if match := CSRF.search(response.text):
            self.token = match.group(1)
        return response

    def get(self, path: str, **kwargs: object) -> Response:
        return self._remember(self.client.get(path, **kwargs))  # type: ignore[arg-type]

    def post(self, path: str, data: dict[str, str] | None = None, csrf: bool = True, **kwargs: object) -> Response:
        form = {**({"csrf_token": self.token} if csrf else {}), **(data or {})}
        return self._remember(self.client.post(path, data=form, **kwargs))  # type: ignore[arg-type]

    def sign_in(self, username: str = "alice", password: str = PASSWORD) -> Response:
        self.get("/login")
        return self.post("/login", {"username": username, "password": password})


# Mail the server sends.


class Inbox:
    """Messages received by a real SMTP server (aiosmtpd) listening on a free local port."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.url = ""

    async def handle_DATA(self, _server: object, _session: object, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, _class=EmailMessage, policy=default_policy))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


# The nameserver, asked as a resolver or a validating CA would ask it.


def ask(settings: Settings, name: str, rdtype: str, tcp: bool = False) -> dns.message.Message:
    """One question to the test's nameserver (HOSTPANEL_DNS_LISTEN), over UDP or TCP, without recursion."""
    host, port = settings.dns_address
    query = dns.message.make_query(name, rdtype)
    query.flags &= ~dns.flags.RD
    if tcp:
        return dns.query.tcp(query, host, port=port, timeout=3)
    return dns.query.udp(query, host, port=port, timeout=3)


def served(settings: Settings, name: str, rdtype: str, tcp: bool = False) -> list[str]:
    """What the nameserver answers for `name`/`rdtype` with authority (a TXT record's strings joined), sorted."""
    answer = ask(settings, name, rdtype, tcp)
    assert answer.flags & dns.flags.AA, answer
    found = []
    for rrset in answer.answer:
        if rrset.rdtype == dns.rdatatype.from_text(rdtype):
            for rdata in rrset:
                strings = getattr(rdata, "strings", None)
                found.append(b"".join(strings).decode() if strings is not None else rdata.to_text())
    return sorted(found)


def served_serial(settings: Settings, zone: str, tcp: bool = False) -> int:
    answer = ask(settings, zone, "SOA", tcp)
    soa = answer.find_rrset(answer.answer, answer.question[0].name, dns.rdataclass.IN, dns.rdatatype.SOA)[0]
    assert isinstance(soa, SOA)
    return int(soa.serial)


# cPanel API 2: `/json-api/cpanel` with the module and function in the arguments, the `cpanelresult` envelope.


class Api2:
    """Calls cPanel API 2 as one account with one token (GET with every argument in the query, as acme.sh and
    certbot-dns-cpanel do), asserting the envelope."""

    def __init__(self, client: TestClient, user: str, secret: str) -> None:
        self.client = client
        self.user = user
        self.headers = auth(user, secret)

    def raw(self, module: str, function: str, **args: str) -> httpx2.Response:
        params = {
            "cpanel_jsonapi_user": self.user,
            "cpanel_jsonapi_apiversion": "2",
            "cpanel_jsonapi_module": module,
            "cpanel_jsonapi_func": function,
            **args,
        }
        return self.client.get("/json-api/cpanel", params=params, headers=self.headers)

    def call(self, module: str, function: str, **args: str) -> dict[str, Any]:
        response = self.raw(module, function, **args)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body: dict[str, Any] = response.json()["cpanelresult"]
        assert body["apiversion"] == 2
        return body

    def data(self, module: str, function: str, **args: str) -> list[Any]:
        body = self.call(module, function, **args)
        assert body["event"] == {"result": 1} and "error" not in body, body
        assert (body["module"], body["func"]) == (module, function)
        result: list[Any] = body["data"]
        return result


def connection_of(uow: UnitOfWork) -> Connection:
    """The database connection under a unit of work (to look at what is stored)."""
    assert isinstance(uow, SqlUnitOfWork)
    return uow.connection


# Sites: what nginx answers.


def fetch(settings: Settings, host: str, path: str = "/") -> tuple[int, str]:
    """GET `path` from the sites' HTTP address with this Host header, on a new connection; (status, body). The path
    is sent as it is (no normalising), as an attacker would send it."""
    address, port = settings.http_listen.rsplit(":", 1)
    with socket.create_connection((address, int(port)), timeout=5) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


# Certificates: a small CA (root, intermediate) issuing leaves for any names and dates.


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _pem_cert(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@dataclass(frozen=True)
class Leaf:
    """A site's certificate as an installer holds it: the PEM certificate, its key, the issuer chain."""

    cert: str
    key: str
    cabundle: str


class TestCa:
    """A root and an intermediate; `leaf` issues a certificate for names, valid around `now` unless told."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, now: float = START, name: str = "hostpanel test") -> None:
        self.now = datetime.datetime.fromtimestamp(now, datetime.UTC)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._cert(f"{name} root", self.root_key, None, None, ca=True)
        self.intermediate_key = ec.generate_private_key(ec.SECP256R1())
        self.intermediate = self._cert(f"{name} intermediate", self.intermediate_key, self.root_key, self.root, ca=True)

    def _cert(
        self,
        subject: str,
        key: ec.EllipticCurvePrivateKey,
        issuer_key: ec.EllipticCurvePrivateKey | None,
        issuer: x509.Certificate | None,
        *,
        ca: bool = False,
        names: tuple[str, ...] = (),
        days: tuple[float, float] = (-1, 90),
    ) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer.subject if issuer else name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now + datetime.timedelta(days=days[0]))
            .not_valid_after(self.now + datetime.timedelta(days=days[1]))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        return builder.sign(issuer_key or key, hashes.SHA256())

    def leaf(self, *names: str, days: tuple[float, float] = (-1, 90), self_signed: bool = False) -> Leaf:
        key = ec.generate_private_key(ec.SECP256R1())
        if self_signed:
            cert = self._cert(names[0], key, None, None, names=names, days=days)
            return Leaf(_pem_cert(cert), _pem_key(key), "")
        cert = self._cert(names[0], key, self.intermediate_key, self.intermediate, names=names, days=days)
        return Leaf(_pem_cert(cert), _pem_key(key), _pem_cert(self.intermediate))

    @staticmethod
    def serial(leaf: Leaf) -> int:
        return x509.load_pem_x509_certificate(leaf.cert.encode()).serial_number

    @property
    def root_pem(self) -> str:
        return _pem_cert(self.root)
