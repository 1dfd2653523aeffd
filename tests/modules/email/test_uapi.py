"""Email over HTTP with a token: mailboxes and forwarders, the files the mail server reads, and every denial."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.mail import service as mail_service
from hostpanel.domain.mail.model import MAX_DESTINATIONS
from hostpanel.domain.permissions import Permissions, Scope
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.domain.tokens.restrictions import Restrictions
from hostpanel.modules import default_registry
from tests.factories import Calls, make_token

PASSWORD = "Str0ng-Mailbox-Pass!"
OTHER_PASSWORD = "Another-Mailbox-Pass-42"


@pytest.fixture
def api(client: TestClient, alice_token: IssuedToken) -> Calls:
    return Calls(client, alice_token.secret, "Email")


@pytest.fixture
def home(container: Container, alice: Account) -> Path:
    return container.homes.path_for(alice.username)


def passwd(container: Container) -> str:
    path = container.mail_files.passwd_path
    return path.read_text() if path.exists() else ""


def aliases(container: Container) -> str:
    path = container.mail_files.alias_path
    return path.read_text() if path.exists() else ""


def add_domain(container: Container, domain: str) -> None:
    with container.uow() as uow:
        container.accounts(uow).add_domain("alice", domain)
        uow.commit()


def test_add_pop_makes_a_maildir_and_a_dovecot_login(api: Calls, container: Container, home: Path) -> None:
    assert api.post("add_pop", email="Info", password=PASSWORD, quota="100")["data"] == "info+alice.test"
    maildir = home / "mail" / "alice.test" / "info"
    for sub in ("cur", "new", "tmp"):
        assert (maildir / sub).is_dir() and stat.S_IMODE((maildir / sub).stat().st_mode) == 0o700
    [line] = passwd(container).splitlines()
    address, scheme_hash, uid, gid, _, dovecot_home, _, extra = line.split(":", 7)
    assert address == "info@alice.test" and scheme_hash.startswith("{ARGON2ID}$argon2id$v=19$")
    assert PASSWORD not in line
    assert (int(uid), int(gid)) == (home.stat().st_uid, home.stat().st_gid)
    assert dovecot_home == str(maildir)
    assert extra == f"userdb_mail=maildir:{maildir} userdb_quota_rule=*:storage=100M"
    assert stat.S_IMODE(container.mail_files.passwd_path.stat().st_mode) == 0o640
    api.post("add_pop", email="sales@alice.test", password=PASSWORD)
    assert "sales@alice.test:" in passwd(container) and "storage=0\n" in passwd(container)
    with container.uow(write=False) as uow:
        [event, _] = uow.audit.query(AuditQuery(actions=("account:mailbox:create",)))
    assert (event.target, event.actor) == ("sales@alice.test", "token:bar")


def only_info_exists(container: Container, home: Path) -> None:
    """Nothing half-made: the one mailbox made before is all there is, on disk and in the passwd-file."""
    assert sorted(p.name for p in (home / "mail" / "alice.test").iterdir()) == ["info"]
    assert [line.split(":")[0] for line in passwd(container).splitlines()] == ["info@alice.test"]


@pytest.mark.parametrize(
    ("email", "password", "quota", "message"),
    [
        ("bad name", PASSWORD, "", "is not a valid email account name"),
        (".dot", PASSWORD, "", "is not a valid email account name"),
        ("a..b", PASSWORD, "", "is not a valid email account name"),
        ("x" * 65, PASSWORD, "", "is not a valid email account name"),
        ("cpanel", PASSWORD, "", "is a reserved name"),
        ("ok", "short", "", "at least 10 characters"),
        ("ok", "passwordpassword", "", "too weak"),
        ("ok", PASSWORD, "-1", "whole number of megabytes"),
        ("ok", PASSWORD, "lots", "whole number of megabytes"),
        ("ok", PASSWORD, "2097153", "whole number of megabytes"),
        ("info", PASSWORD, "", "The email account “info@alice.test” already exists."),
    ],
)
def test_add_pop_validation(
    api: Calls, container: Container, home: Path, email: str, password: str, quota: str, message: str
) -> None:
    api.post("add_pop", email="info", password=PASSWORD)
    assert message in api.error("add_pop", email=email, password=password, quota=quota), email
    only_info_exists(container, home)


def test_add_pop_needs_its_arguments_and_a_domain_of_the_account(api: Calls, container: Container, home: Path) -> None:
    api.post("add_pop", email="info", password=PASSWORD)
    assert "does not belong to this account" in api.error("add_pop", email="x", domain="bob.test", password=PASSWORD)
    assert "is not on the domain" in api.error("add_pop", email="x@other.test", domain="alice.test", password=PASSWORD)
    assert api.error("add_pop", password=PASSWORD) == "Provide the “email” argument."
    assert api.error("add_pop", email="x") == "Provide the “password” argument."
    only_info_exists(container, home)


def test_listing_counting_and_disk_usage(api: Calls, home: Path) -> None:
    api.post("add_pop", email="info", password=PASSWORD, quota="1")
    api.post("add_pop", email="sales", password=PASSWORD)
    (home / "mail" / "alice.test" / "info" / "new" / "1.msg").write_bytes(b"x" * 262_144)
    pops = api.post("list_pops")["data"]
    assert pops == [
        {"email": "info@alice.test", "login": "info@alice.test", "suspended_incoming": 0, "suspended_login": 0},
        {"email": "sales@alice.test", "login": "sales@alice.test", "suspended_incoming": 0, "suspended_login": 0},
    ]
    assert [p["email"] for p in api.post("list_pops", regex="^s")["data"]] == ["sales@alice.test"]
    assert "not a valid regular expression" in api.error("list_pops", regex="(")
    assert api.post("count_pops")["data"] == 2
    disk = {r["email"]: r for r in api.post("list_pops_with_disk")["data"]}
    info = disk["info@alice.test"]
    assert info["_diskused"] == 262_144 and info["_diskquota"] == 1_048_576 and info["diskquota"] == "1"
    assert info["diskusedpercent"] == 25 and info["diskusedpercent20"] == 20 and info["diskusedpercent_float"] == 25.0
    assert info["humandiskused"] == "256 KB" and info["user"] == "info" and info["domain"] == "alice.test"
    assert disk["sales@alice.test"]["diskquota"] == "unlimited" and disk["sales@alice.test"]["diskusedpercent"] == 0
    one = api.post("list_pops_with_disk", email="info", no_disk="1")["data"]
    assert [r["email"] for r in one] == ["info@alice.test"] and one[0]["_diskused"] == 0


def test_password_quota_and_deletion(api: Calls, container: Container, home: Path) -> None:
    api.post("add_pop", email="info", password=PASSWORD, quota="50")
    before = passwd(container)
    assert api.post("passwd_pop", email="info", password=OTHER_PASSWORD)["data"] is None
    after = passwd(container)
    assert after != before and after.split(":")[0] == "info@alice.test"
    assert container.mail_files.passwd_path.stat().st_mtime > 0
    assert "too weak" in api.error("passwd_pop", email="info", password="passwordpassword")
    assert "does not exist" in api.error("passwd_pop", email="nobody", password=OTHER_PASSWORD)
    assert api.post("get_pop_quota", email="info")["data"] == 50
    assert api.post("get_pop_quota", email="info@alice.test", as_bytes="1")["data"] == 50 * 1024 * 1024
    api.post("edit_pop_quota", email="info", domain="alice.test", quota="unlimited")
    assert api.post("get_pop_quota", email="info")["data"] == 0 and "storage=0" in passwd(container)
    assert "whole number" in api.error("edit_pop_quota", email="info", quota="x")
    assert api.error("edit_pop_quota", email="info") == "Provide the “quota” argument."
    (home / "mail" / "alice.test" / "info" / "new" / "1.msg").write_text("mail")
    assert api.post("delete_pop", email="info")["data"] is None
    assert passwd(container) == "" and not (home / "mail" / "alice.test" / "info").exists()
    assert "does not exist" in api.error("delete_pop", email="info")


def test_forwarders_become_a_virtual_alias_map(api: Calls, container: Container) -> None:
    added = api.post(
        "add_forwarder", domain="alice.test", email="sales", fwdopt="fwd", fwdemail="bob@example.com, Carol@Example.NET"
    )["data"]
    assert added == [
        {"domain": "alice.test", "email": "sales@alice.test", "forward": "bob@example.com"},
        {"domain": "alice.test", "email": "sales@alice.test", "forward": "carol@example.net"},
    ]
    api.post("add_forwarder", domain="alice.test", email="info@alice.test", fwdopt="fwd", fwdemail="bob@example.com")
    assert (
        aliases(container) == "info@alice.test  bob@example.com\nsales@alice.test  bob@example.com, carol@example.net\n"
    )
    listed = api.post("list_forwarders", domain="alice.test")["data"]
    assert listed[0] == {
        "dest": "info@alice.test",
        "forward": "bob@example.com",
        "html_dest": "info@alice.test",
        "html_forward": "bob@example.com",
        "uri_dest": "info%40alice.test",
        "uri_forward": "bob%40example.com",
    }
    assert [f["dest"] for f in api.post("list_forwarders", regex="^sales")["data"]] == ["sales@alice.test"] * 2
    errors = {
        ("fail", "bob@example.com"): "“fail” forwarders are not supported",
        ("fwd", "not an address"): "is not valid",
        ("fwd", "sales@alice.test"): "cannot forward to itself",
        ("fwd", "bob@example.com"): "already forwards to",
        ("fwd", " , "): "cannot be empty",
    }
    for (option, target), message in errors.items():
        error = api.error("add_forwarder", domain="alice.test", email="sales", fwdopt=option, fwdemail=target)
        assert message in error, (option, target, error)
    assert api.post("delete_forwarder", address="sales@alice.test", forwarder="bob@example.com")["data"] is None
    assert aliases(container) == "info@alice.test  bob@example.com\nsales@alice.test  carol@example.net\n"
    assert "There is no forwarder" in api.error("delete_forwarder", address="sales@alice.test", forwarder="x@y.test")


def test_forwarders_are_bounded_per_address_and_per_account(
    api: Calls, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One message fans out to every destination, and each change rewrites the alias map: neither grows unbounded."""
    many = ", ".join(f"list{n}@example.com" for n in range(MAX_DESTINATIONS - 1))
    assert len(api.post("add_forwarder", domain="alice.test", email="news", fwdopt="fwd", fwdemail=many)["data"]) == 99
    two = "a@example.org, b@example.org"
    error = api.error("add_forwarder", domain="alice.test", email="news", fwdopt="fwd", fwdemail=two)
    assert error == f"“news@alice.test” may forward to at most {MAX_DESTINATIONS} addresses."
    api.post("add_forwarder", domain="alice.test", email="news", fwdopt="fwd", fwdemail="a@example.org")
    monkeypatch.setattr(mail_service, "MAX_FORWARDERS", MAX_DESTINATIONS + 1)
    api.post("add_forwarder", domain="alice.test", email="info", fwdopt="fwd", fwdemail="a@example.org")
    error = api.error("add_forwarder", domain="alice.test", email="sales", fwdopt="fwd", fwdemail="a@example.org")
    assert error == f"An account may have at most {MAX_DESTINATIONS + 1} forwarders."
    assert aliases(container).count("\n") == 2  # nothing half-added: news with its 100, info with its one
    assert len(api.post("list_forwarders")["data"]) == MAX_DESTINATIONS + 1


FUNCTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "add_pop": ("write", {"email": "x", "domain": "other.test", "password": PASSWORD}),
    "list_pops": ("read", {"domain": "other.test"}),
    "list_pops_with_disk": ("read", {"domain": "other.test"}),
    "count_pops": ("read", {"domain": "other.test"}),
    "passwd_pop": ("write", {"email": "x@other.test", "password": OTHER_PASSWORD}),
    "edit_pop_quota": ("write", {"email": "x@other.test", "quota": "5"}),
    "get_pop_quota": ("read", {"email": "x@other.test"}),
    "delete_pop": ("write", {"email": "x@other.test"}),
    "add_forwarder": ("write", {"domain": "other.test", "email": "x", "fwdopt": "fwd", "fwdemail": "a@b.test"}),
    "list_forwarders": ("read", {"domain": "other.test"}),
    "delete_forwarder": ("write", {"address": "x@other.test", "forwarder": "a@b.test"}),
}


def test_every_function_is_listed_here() -> None:
    assert {f.name for f in default_registry().functions() if f.module == "Email"} == set(FUNCTIONS)


@pytest.mark.parametrize(("function", "access", "args"), [(name, *call) for name, call in FUNCTIONS.items()])
def test_every_function_needs_its_scope(
    client: TestClient, container: Container, alice: Account, function: str, access: str, args: dict[str, str]
) -> None:
    other = make_token(container, alice, "other", Permissions.of([Scope.parse("fileman:write")]))
    api = Calls(client, other.secret, "Email")
    assert api.error(function, **args) == f"This API token does not have the “email:{access}” scope.", function


def test_a_domain_restricted_token_sees_and_touches_only_its_domains(
    client: TestClient, container: Container, alice: Account, api: Calls
) -> None:
    add_domain(container, "other.test")
    api.post("add_pop", email="x@other.test", password=PASSWORD)
    api.post("add_forwarder", domain="other.test", email="x", fwdopt="fwd", fwdemail="a@b.test")
    api.post("add_pop", email="info", password=PASSWORD)
    token = make_token(container, alice, "mail", restrictions=Restrictions.parse(email_domains=["alice.test"]))
    scoped = Calls(client, token.secret, "Email")
    for function, (_, args) in FUNCTIONS.items():
        message = scoped.error(function, **args)
        assert "(restriction “email_domains”); “other.test” is not one of them." in message, (function, message)
    assert [p["email"] for p in scoped.post("list_pops")["data"]] == ["info@alice.test"]
    assert scoped.post("count_pops")["data"] == 1 and scoped.post("list_forwarders")["data"] == []
    scoped.post("add_pop", email="new", password=PASSWORD)
    assert "x@other.test:" in passwd(container)  # untouched
    with container.uow(write=False) as uow:
        denials = uow.audit.query(AuditQuery(actions=("account:restriction:denied",), limit=50))
    assert len(denials) == len(FUNCTIONS)
    assert {(e.details["restriction"], e.details["detail"]) for e in denials} == {("email_domains", "other.test")}


def test_feature_gates_follow_cpanel(api: Calls, container: Container) -> None:
    api.post("add_pop", email="info", password=PASSWORD)
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["popaccts", "forwarders"], [])
        uow.commit()
    assert api.error("add_pop", email="x", password=PASSWORD) == "You do not have the feature “popaccts”."
    assert api.error("delete_pop", email="info") == "You do not have the feature “popaccts”."
    assert "“forwarders”" in api.error("add_forwarder", domain="alice.test", email="x", fwdopt="fwd", fwdemail="a@b.c")
    assert api.post("list_pops")["data"][0]["email"] == "info@alice.test"
    api.post("list_forwarders")


def test_suspension_and_deletion_take_the_mailboxes_offline(api: Calls, container: Container) -> None:
    api.post("add_pop", email="info", password=PASSWORD)
    api.post("add_forwarder", domain="alice.test", email="info", fwdopt="fwd", fwdemail="a@b.test")
    with container.uow() as uow:
        container.accounts(uow).set_suspended("alice", True)
        uow.commit()
    assert passwd(container) == "" and aliases(container) == ""
    with container.uow() as uow:
        container.accounts(uow).set_suspended("alice", False)
        uow.commit()
    assert passwd(container).startswith("info@alice.test:")
    with container.uow() as uow:
        container.accounts(uow).delete("alice")
        uow.commit()
    assert passwd(container) == "" and aliases(container) == ""


def test_a_regex_cannot_stall_the_worker(api: Calls) -> None:
    """`regex` is the caller's pattern: with a backtracking engine `^(a+)+$` over this address takes hours."""
    api.post("add_pop", email="a" * 30, password=PASSWORD)
    started = time.monotonic()
    for function in ("list_pops", "list_pops_with_disk", "list_forwarders"):
        assert api.post(function, regex="^(a+)+$")["data"] == []
    assert time.monotonic() - started < 5
    assert [p["email"] for p in api.post("list_pops", regex="^(a+)+@")["data"]] == [f"{'a' * 30}@alice.test"]
    assert "not a valid regular expression" in api.error("list_pops", regex="(a)\\1")  # backreferences: not RE2


@pytest.mark.parametrize("target", ["|/home/alice/run@alice.test", "/home/alice/mbox@alice.test"])
def test_a_forwarder_cannot_smuggle_a_pipe_or_a_file_delivery_into_the_alias_map(
    api: Calls, container: Container, home: Path, target: str
) -> None:
    """Exim's redirect router reads an alias item starting with `|` as a command to pipe the mail to and one starting
    with `/` as a file to append it to. Both are valid in an address's local part, so `|/home/alice/run@x.test`
    passed as an address, and with a file of that name in the home a forwarder became a pipe (fwdopt=pipe, which this
    server refuses)."""
    error = api.error("add_forwarder", domain="alice.test", email="sales", fwdopt="fwd", fwdemail=target)
    assert "is not valid" in error, (target, error)
    assert aliases(container) == ""
    api.post("add_forwarder", domain="alice.test", email="sales", fwdopt="fwd", fwdemail="a|b/c@example.com")
    assert aliases(container) == "sales@alice.test  a|b/c@example.com\n"
