"""Fileman over HTTP with a token: every function's success path and errors, and the confinement attacks."""

from __future__ import annotations

import contextlib
import gc
import os
import resource
import stat
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import ClientDisconnect
from starlette.testclient import TestClient
from starlette.types import Message

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.permissions import Permissions, Scope
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.domain.tokens.restrictions import Restrictions
from hostpanel.modules import default_registry
from tests.factories import Calls, make_token, uapi

SECRET = "root:x:0:0:outside the home\n"


@pytest.fixture
def home(container: Container, alice: Account) -> Path:
    return container.homes.path_for(alice.username)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    (path / "passwd").write_text(SECRET)
    return path


class Api(Calls):
    """Fileman's functions called with one token, and files uploaded as multipart parts."""

    def __init__(self, client: TestClient, secret: str) -> None:
        super().__init__(client, secret, "Fileman")

    def upload(self, files: list[tuple[str, bytes]], status: int | None = 1, **args: str) -> dict[str, Any]:
        parts = [(f"file-{n}", (name, data, "application/octet-stream")) for n, (name, data) in enumerate(files)]
        response = self.client.post("/execute/Fileman/upload_files", data=args, files=parts, headers=self.headers)
        return uapi(response, status=status)


@pytest.fixture
def api(client: TestClient, alice_token: IssuedToken) -> Api:
    return Api(client, alice_token.secret)


def test_a_new_home_has_cpanels_skeleton(home: Path) -> None:
    assert {"public_html", "mail", "etc", "tmp", "logs", "public_ftp", "ssl"} <= set(os.listdir(home))


def test_list_files_lists_folders_first_and_hides_dot_files(api: Api, home: Path) -> None:
    (home / "public_html" / "b.txt").write_text("b")
    (home / "public_html" / "A.txt").write_text("a")
    (home / "public_html" / "zdir").mkdir()
    (home / "public_html" / ".htaccess").write_text("deny")
    body = api.get("list_files", dir="public_html")
    assert [r["file"] for r in body["data"]] == ["zdir", "A.txt", "b.txt"]
    record = body["data"][1]
    assert record["type"] == "file" and record["size"] == 1 and record["humansize"] == "1 bytes"
    assert record["fullpath"] == str(home / "public_html" / "A.txt") and record["path"] == str(home / "public_html")
    assert record["nicemode"] == f"{stat.S_IMODE((home / 'public_html' / 'A.txt').stat().st_mode):04o}"
    assert {"mtime", "ctime", "mode", "uid", "gid", "absdir", "exists"} <= set(record)
    hidden = api.get("list_files", dir="public_html", show_hidden="1")
    assert ".htaccess" in [r["file"] for r in hidden["data"]]
    dirs = api.get("list_files", dir=str(home / "public_html"), types="dir")
    assert [r["file"] for r in dirs["data"]] == ["zdir"]
    assert "does not exist" in api.error("list_files", dir="nope")
    assert "is not a file type" in api.error("list_files", types="file|bogus")
    assert "must be 1 or 0" in api.error("list_files", show_hidden="yes")


def test_get_file_information(api: Api, home: Path) -> None:
    (home / "public_html" / "index.html").write_text("hello")
    record = api.get("get_file_information", path="public_html/index.html")["data"]
    assert record["file"] == "index.html" and record["size"] == 5 and record["type"] == "file"
    assert api.get("get_file_information", path="/home/alice/public_html")["data"]["type"] == "dir"
    assert api.error("get_file_information") == "Provide the “path” argument."
    assert "does not exist" in api.error("get_file_information", path="public_html/none")


def test_get_file_content_and_charsets(api: Api, home: Path, container: Container) -> None:
    (home / "public_html" / "utf8.txt").write_text("héllo", encoding="utf-8")
    (home / "public_html" / "latin1.txt").write_bytes("café".encode("latin-1"))
    data = api.get("get_file_content", dir="public_html", file="utf8.txt")["data"]
    assert data["content"] == "héllo" and data["filename"] == "utf8.txt" and data["from_charset"] == "utf-8"
    assert data["path"] == str(home / "public_html" / "utf8.txt") and data["dir"] == str(home / "public_html")
    assert "from_charset=ISO-8859-1" in api.error("get_file_content", dir="public_html", file="latin1.txt")
    latin = api.get("get_file_content", dir="public_html", file="latin1.txt", from_charset="ISO-8859-1")["data"]
    assert latin["content"] == "café"
    detected = api.get("get_file_content", dir="public_html", file="latin1.txt", from_charset="_DETECT_")["data"]
    assert detected["content"] == "café" and detected["from_charset"] == "iso8859-1"
    assert api.error("get_file_content", dir="public_html") == "Provide the “file” argument."
    assert "not a character set" in api.error("get_file_content", file="utf8.txt", dir="public_html", from_charset="x")


@pytest.mark.settings(max_file_content_bytes=1024)
def test_file_content_past_the_limit_is_neither_read_nor_written(api: Api, home: Path) -> None:
    (home / "big.log").write_bytes(b"x" * 2048)
    assert "use Fileman::download" in api.error("get_file_content", file="big.log")
    assert "more than 1024 bytes" in api.error("save_file_content", file="big.txt", content="x" * 2000)
    assert not (home / "big.txt").exists()


def test_save_file_content_creates_overwrites_and_keeps_the_mode(api: Api, home: Path, container: Container) -> None:
    body = api.post("save_file_content", dir="public_html", file="index.html", content="<h1>hi</h1>")
    assert body["data"] == {
        "path": str(home / "public_html" / "index.html"),
        "from_charset": "utf-8",
        "to_charset": "utf-8",
    }
    target = home / "public_html" / "index.html"
    assert target.read_text() == "<h1>hi</h1>" and stat.S_IMODE(target.stat().st_mode) == 0o644
    target.chmod(0o600)
    api.post("save_file_content", dir="public_html", file="index.html", content="v2")
    assert target.read_text() == "v2" and stat.S_IMODE(target.stat().st_mode) == 0o600
    api.post("save_file_content", file="latin.txt", content="café", to_charset="ISO-8859-1")
    assert (home / "latin.txt").read_bytes() == "café".encode("latin-1")
    assert "pass fallback=1" in api.error("save_file_content", file="e.txt", content="€ ☃", to_charset="ISO-8859-1")
    saved = api.post("save_file_content", file="e.txt", content="€ ☃", to_charset="ISO-8859-1", fallback="1")
    assert saved["data"]["to_charset"] == "utf-8" and (home / "e.txt").read_text() == "€ ☃"
    api.post("save_file_content", file="empty.txt")
    assert (home / "empty.txt").read_bytes() == b""
    assert "does not exist" in api.error("save_file_content", dir="missing", file="a.txt", content="x")
    with container.uow(write=False) as uow:
        writes = uow.audit.query(AuditQuery(actions=("account:file:write",)))
    assert {e.target for e in writes} >= {"public_html/index.html", "latin.txt"}
    assert all(e.actor == "token:bar" for e in writes)


@pytest.mark.parametrize("name", ["../x", "a/b", "a;b", ".", "a<b"])
def test_save_file_content_refuses_what_is_not_a_file_name(api: Api, name: str) -> None:
    assert "invalid characters for a filename" in api.error("save_file_content", file=name, content="x")


def test_upload_files_several_at_once_with_overwrite_and_permissions(api: Api, home: Path) -> None:
    body = api.upload([("a.bin", b"\x00\x01binary"), ("b.txt", b"text")], dir="public_html/new", permissions="0600")
    assert body["data"]["succeeded"] == 2 and body["data"]["failed"] == 0
    assert body["data"]["uploads"][0] == {
        "file": "a.bin",
        "size": 8,
        "status": 1,
        "reason": "Upload of “a.bin” succeeded.",
        "warnings": [],
    }
    assert (home / "public_html" / "new" / "a.bin").read_bytes() == b"\x00\x01binary"
    assert stat.S_IMODE((home / "public_html" / "new" / "b.txt").stat().st_mode) == 0o600
    mixed = api.upload([("a.bin", b"again"), ("c.txt", b"c")], dir="public_html/new")
    assert [u["status"] for u in mixed["data"]["uploads"]] == [0, 1]
    assert mixed["data"]["uploads"][0]["reason"] == "The file “a.bin” already exists."
    assert (home / "public_html" / "new" / "a.bin").read_bytes() == b"\x00\x01binary"
    replaced = api.upload([("a.bin", b"again")], dir="public_html/new", overwrite="1")
    assert replaced["data"]["uploads"][0]["reason"].endswith("overwrote existing file with your upload.")
    assert (home / "public_html" / "new" / "a.bin").read_bytes() == b"again"
    stripped = api.upload([("C:\\Users\\me\\report.pdf", b"%PDF")], dir="public_html")
    assert stripped["data"]["uploads"][0]["file"] == "report.pdf" and (home / "public_html" / "report.pdf").exists()


def test_upload_failures(api: Api, home: Path, container: Container) -> None:
    failed = api.upload([("a<b", b"x"), ("..", b"y")], status=0, dir="public_html")
    assert failed["errors"] == ["Failed to upload any of the requested files with various failures."]
    assert failed["data"]["failed"] == 2 and "invalid characters" in failed["data"]["uploads"][0]["reason"]
    raw = b'--B\r\nContent-Disposition: form-data; name="f"; filename="bad\x01name"\r\n\r\nx\r\n--B--\r\n'
    control = api.client.post(
        "/execute/Fileman/upload_files",
        content=raw,
        headers={**api.headers, "Content-Type": "multipart/form-data; boundary=B"},
    )
    assert "control characters" in uapi(control, status=0)["data"]["uploads"][0]["reason"]
    truncated = api.client.post(
        "/execute/Fileman/upload_files",
        content=b'--B\r\nContent-Disposition: form-data; name="f"; filename="cut.bin"\r\n\r\n' + b"x" * 5000,
        headers={**api.headers, "Content-Type": "multipart/form-data; boundary=B"},
    )
    assert uapi(truncated, status=0)["errors"] == ["The multipart request ended in the middle of a file."]
    assert sorted(os.listdir(home / "public_html")) == []
    assert os.listdir(container.staging.user_dir("alice")) == []
    none = uapi(api.client.post("/execute/Fileman/upload_files", data={"dir": "x"}, headers={**api.headers}), status=0)
    assert none["errors"] == ["You must specify at least one file to upload."]
    assert "valid file system permission" in api.upload([("a", b"a")], status=0, permissions="0999")["errors"][0]
    not_here = api.client.post(
        "/execute/Fileman/save_file_content", files=[("f", ("x", b"y", "text/plain"))], headers=api.headers
    )
    assert uapi(not_here, status=0)["errors"] == ["This function does not take file uploads."]


@pytest.mark.settings(max_upload_bytes=4096)
def test_an_upload_past_the_limit_is_refused_and_nothing_kept(api: Api, home: Path, container: Container) -> None:
    too_big = api.client.post(
        "/execute/Fileman/upload_files",
        files=[("f", ("big.bin", b"x" * 10_000, "application/octet-stream"))],
        headers=api.headers,
    )
    assert too_big.status_code == 413 and too_big.json()["status"] == 0
    assert not (home / "big.bin").exists()
    staged = container.staging.user_dir("alice")
    assert not staged.exists() or os.listdir(staged) == []


def test_one_upload_cannot_take_the_workers_file_descriptors(api: Api, home: Path, container: Container) -> None:
    """Each file part holds descriptors until the request ends; with 1024 a common process limit, one request of
    hundreds of empty files made every other request in the worker fail (EMFILE) while it lasted."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 300, hard))
    try:
        body = api.upload([(f"f{n}.txt", b"") for n in range(200)], status=0, dir="public_html")
        assert body["errors"] == ["The request has more than 100 files: upload them in several requests."]
        assert api.upload([(f"f{n}.txt", b"") for n in range(100)], dir="public_html")["data"]["succeeded"] == 100
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert len(os.listdir(home / "public_html")) == 100
    assert os.listdir(container.staging.user_dir("alice")) == []


def test_download_returns_the_raw_bytes(api: Api, home: Path) -> None:
    data = bytes(range(256)) * 300
    (home / "public_html" / "blob.bin").write_bytes(data)
    response = api.client.get(
        "/execute/Fileman/download", params={"dir": "public_html", "file": "blob.bin"}, headers=api.headers
    )
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''blob.bin"
    assert response.headers["cache-control"] == "no-store"
    assert "does not exist" in api.error("download", dir="public_html", file="none.bin")
    assert "directory, not a regular file" in api.error("download", file="public_html")


def _open_descriptors_of(path: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == str(path)
        except OSError:
            continue
    return count


@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
def test_a_download_abandoned_before_its_first_byte_closes_the_file(api: Api, home: Path, spec_version: str) -> None:
    """Each download a client drops at once must not keep a descriptor: repeated, they would exhaust the worker's
    descriptors and stop it serving anyone."""
    blob = home / "public_html" / "blob.bin"
    blob.write_bytes(b"x" * 100_000)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/execute/Fileman/download",
        "raw_path": b"/execute/Fileman/download",
        "query_string": b"dir=public_html&file=blob.bin",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"authorization", api.headers["Authorization"].encode())],
        "client": ("192.0.2.1", 50000),
        "server": ("testserver", 443),
    }
    started: list[int] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.append(message["status"])
            if spec_version == "2.4":
                raise OSError("the client has gone")  # what ASGI 2.4 servers do on a send after a disconnect

    async def call() -> None:
        with contextlib.suppress(ClientDisconnect):
            await api.client.app(scope, receive, send)

    for _ in range(3):
        api.client.portal.call(call)  # type: ignore[union-attr]
    gc.collect()
    assert started == [200] * 3
    assert _open_descriptors_of(blob) == 0


def test_mkdir_rename_trash_empty_trash_delete(api: Api, home: Path, container: Container) -> None:
    assert api.post("mkdir", path="public_html", name="app")["data"] == {"path": str(home / "public_html" / "app")}
    assert stat.S_IMODE((home / "public_html" / "app").stat().st_mode) == 0o755
    assert "already exists" in api.error("mkdir", path="public_html", name="app")
    assert "invalid characters" in api.error("mkdir", path="public_html", name="a/b")
    api.post("mkdir", name="private", permissions="0700")
    assert stat.S_IMODE((home / "private").stat().st_mode) == 0o700
    (home / "public_html" / "old.txt").write_text("old")
    api.post("rename", path="public_html/old.txt", new_path="public_html/app/new.txt")
    assert (home / "public_html" / "app" / "new.txt").read_text() == "old"
    (home / "public_html" / "other.txt").write_text("other")
    assert "already exists" in api.error("rename", path="public_html/other.txt", new_path="public_html/app/new.txt")
    assert "into itself" in api.error("rename", path="public_html", new_path="public_html/app/x")
    assert "does not exist" in api.error("rename", path="nope", new_path="nope2")
    trashed = api.post("trash", path="public_html/other.txt")["data"]
    assert trashed["trash_path"] == str(home / ".trash" / "other.txt")
    (home / "public_html" / "other.txt").write_text("second")
    assert api.post("trash", path="public_html/other.txt")["data"]["trash_path"].endswith(".trash/other.txt.1")
    assert "already in the trash" in api.error("trash", path=".trash/other.txt")
    api.post("empty_trash", older_than="1")
    assert sorted(os.listdir(home / ".trash")) == ["other.txt", "other.txt.1"]  # trashed just now: kept
    assert api.post("empty_trash")["data"] is None
    assert os.listdir(home / ".trash") == []
    assert "whole number" in api.error("empty_trash", older_than="-1")
    assert api.post("delete", path="public_html/app")["data"]["type"] == "dir"
    assert not (home / "public_html" / "app").exists()
    assert "does not exist" in api.error("delete", path="public_html/app")
    assert "not the home itself" in api.error("delete", path="/home/alice")
    with container.uow(write=False) as uow:
        actions = {e.action.value for e in uow.audit.query(AuditQuery(account_id=1, limit=100))}
    assert {"account:file:mkdir", "account:file:move", "account:file:trash", "account:file:delete"} <= actions


@pytest.mark.parametrize(
    ("dir_", "file"),
    [
        ("public_html", "../../../../../../../../../../etc/passwd"),
        ("../../../../../../../../../../../../etc", "passwd"),
        ("..%2F..%2F..%2Fetc", "passwd"),
        ("/etc", "passwd"),
        ("/home/alice/../../etc", "passwd"),
        ("public_html/\x00", "passwd"),
    ],
)
def test_traversal_and_absolute_paths_are_refused(api: Api, dir_: str, file: str) -> None:
    body = api.get("get_file_content", status=0, dir=dir_, file=file)
    assert "root:" not in str(body)


def test_planted_links_are_refused_over_http(api: Api, home: Path, outside: Path) -> None:
    (home / "public_html" / "etc-link").symlink_to(outside)
    (home / "public_html" / "passwd").symlink_to(outside / "passwd")
    assert "symbolic link" in api.error("get_file_content", dir="public_html/etc-link", file="passwd")
    assert "symbolic link" in api.error("get_file_content", dir="public_html", file="passwd")
    assert "symbolic link" in api.error("download", dir="public_html", file="passwd")
    assert "symbolic link" in api.error("list_files", dir="public_html/etc-link")
    assert "symbolic link" in api.error("save_file_content", dir="public_html/etc-link", file="x", content="x")
    assert "cannot be overwritten" in api.error("save_file_content", dir="public_html", file="passwd", content="x")
    upload = api.upload([("passwd", b"x")], status=0, dir="public_html", overwrite="1")
    assert "cannot be overwritten" in upload["data"]["uploads"][0]["reason"]
    assert "symbolic link" in api.upload([("x", b"x")], status=0, dir="public_html/etc-link")["errors"][0]
    api.post("delete", path="public_html/etc-link")
    assert sorted(os.listdir(outside)) == ["passwd"] and (outside / "passwd").read_text() == SECRET


FUNCTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "list_files": ("read", {"dir": "etc"}),
    "get_file_information": ("read", {"path": "etc/x"}),
    "get_file_content": ("read", {"dir": "etc", "file": "x"}),
    "download": ("read", {"dir": "etc", "file": "x"}),
    "save_file_content": ("write", {"dir": "etc", "file": "x", "content": "x"}),
    "upload_files": ("write", {"dir": "etc"}),
    "mkdir": ("write", {"path": "etc", "name": "x"}),
    "rename": ("write", {"path": "etc/x", "new_path": "public_html/app/x"}),
    "trash": ("write", {"path": "etc/x"}),
    "empty_trash": ("write", {}),
    "delete": ("write", {"path": "etc/x"}),
}


def test_every_function_is_listed_here() -> None:
    assert {f.name for f in default_registry().functions() if f.module == "Fileman"} == set(FUNCTIONS)


@pytest.mark.parametrize(("function", "access", "args"), [(name, *call) for name, call in FUNCTIONS.items()])
def test_every_function_needs_its_scope(
    client: TestClient, container: Container, alice: Account, function: str, access: str, args: dict[str, str]
) -> None:
    other = make_token(container, alice, "other", Permissions.of([Scope.parse("tokens:write")]))
    api = Api(client, other.secret)
    assert api.error(function, **args) == f"This API token does not have the “fileman:{access}” scope.", function


def test_every_function_keeps_to_the_token_paths(
    client: TestClient, container: Container, alice: Account, home: Path
) -> None:
    (home / "etc" / "x").write_text("config")
    (home / "public_html" / "app").mkdir()
    deploy = make_token(container, alice, "deploy", restrictions=Restrictions.parse(fileman_paths=["public_html/app"]))
    api = Api(client, deploy.secret)
    for function, (_, args) in FUNCTIONS.items():
        if function == "upload_files":
            message = api.upload([("x", b"x")], status=0, **args)["errors"][0]
        else:
            message = api.error(function, **args)
        assert "(restriction “fileman_paths”)" in message, function
    assert (home / "etc" / "x").read_text() == "config"
    api.post("save_file_content", dir="public_html/app", file="index.html", content="deployed")
    api.upload([("app.js", b"js")], dir="/home/alice/public_html/app")
    listed = api.get("list_files", dir="public_html/app")["data"]
    assert [r["file"] for r in listed] == ["app.js", "index.html"]
    with container.uow(write=False) as uow:
        denials = uow.audit.query(AuditQuery(actions=("account:restriction:denied",), limit=100))
    assert len(denials) == len(FUNCTIONS)
    assert all(e.details["restriction"] == "fileman_paths" and e.actor == "token:deploy" for e in denials)


def test_read_only_tokens_and_a_switched_off_feature(
    client: TestClient, container: Container, alice: Account, home: Path
) -> None:
    reader = Api(client, make_token(container, alice, "ro", restrictions=Restrictions.parse(read_only=True)).secret)
    reader.get("list_files", dir="public_html")
    assert "read-only" in reader.error("save_file_content", file="x", content="x")
    assert not (home / "x").exists()
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["filemanager"], [])
        uow.commit()
    assert reader.error("list_files") == "You do not have the feature “filemanager”."
