"""Files → File Manager: browse, upload, folders, edit, rename or move, trash, delete, download; the confinement
attacks through the pages; uploads stored only for a signed-in session whose CSRF token comes first."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from httpx import Response
from starlette.testclient import TestClient

from hostpanel.app import create_app
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from tests.factories import Browser, FakeClock

SECRET = "root:x:0:0:outside the home\n"
NAMES = re.compile(r'<th scope="row" class="file-name">(?:<a href="[^"]*">)?([^<]+?)/?(?:</a>)?</th>')
BOUNDARY = "hostpanel-test-boundary"
Answer = Response | httpx2.Response  # the browser helper's answers, and the test client's own


@pytest.fixture
def home(container: Container, alice: Account) -> Path:
    return container.homes.path_for(alice.username)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    (path / "passwd").write_text(SECRET)
    return path


def upload(browser: Browser, files: list[tuple[str, bytes]], **fields: str) -> Answer:
    """The upload form as a browser sends it: the CSRF token and the other fields first, then the files."""
    data = {"csrf_token": browser.token, **fields}
    parts = [("file", (name, content, "application/octet-stream")) for name, content in files]
    return browser.client.post("/files/upload", data=data, files=parts)


def multipart(parts: list[tuple[str, str | None, bytes]]) -> bytes:
    """A multipart body with the parts in the order given: (field name, file name or None, content)."""
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def messages(page: Answer) -> str:
    """The error texts a page shows: atop the page and beside its fields."""
    found = re.findall(r'<div class="alert" role="alert">([^<]*)</div>|class="field-error"[^>]*>([^<]+)</p>', page.text)
    return " | ".join(top or field for top, field in found)


def staged(container: Container) -> list[str]:
    directory = container.staging.user_dir("alice")
    return os.listdir(directory) if directory.exists() else []


def audit_actions(container: Container) -> list[str]:
    with container.uow(write=False) as uow:
        return [event.action.value for event in uow.audit.query(AuditQuery(limit=1000))]


# Browsing ------------------------------------------------------------------------------------------------------


def test_browse_folders_first_with_size_modified_permissions_and_hidden_files_on_request(
    browser: Browser, home: Path
) -> None:
    site = home / "public_html"
    (site / "b.txt").write_text("hello")
    (site / "A-upper.txt").write_text("x")
    (site / "z-folder").mkdir()
    (site / ".htaccess").write_text("Deny from all\n")
    (site / "b.txt").chmod(0o640)
    browser.sign_in()
    page = browser.get("/files?dir=public_html")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert NAMES.findall(page.text) == ["z-folder", "A-upper.txt", "b.txt"]
    assert '<a href="/files?dir=" >Home</a>' not in page.text  # the crumbs are real links
    assert re.search(r'<li><a href="/files\?dir=">Home</a></li>', page.text)
    assert re.search(r'<a href="/files\?dir=public_html" aria-current="page">public_html</a>', page.text)
    row = page.text.split('class="file-name">b.txt</th>', 1)[1].split("</tr>", 1)[0]
    assert "5 bytes" in row and "<code>0640</code>" in row and "-rw-r-----" in row and "UTC" in row
    assert "hidden files not shown" in page.text
    shown = browser.get("/files?dir=public_html&hidden=1")
    assert NAMES.findall(shown.text) == ["z-folder", ".htaccess", "A-upper.txt", "b.txt"]
    home_page = browser.get("/files")
    assert "public_html" in NAMES.findall(home_page.text) and "your home folder" in home_page.text


def test_a_large_folder_is_shown_in_pages(browser: Browser, home: Path) -> None:
    folder = home / "public_html" / "cache"
    folder.mkdir()
    for n in range(450):
        (folder / f"f{n:03d}").write_bytes(b"")
    browser.sign_in()
    first = browser.get("/files?dir=public_html/cache")
    assert NAMES.findall(first.text) == [f"f{n:03d}" for n in range(200)]
    assert "450 items in ~/public_html/cache (hidden files not shown): page 1 of 3" in first.text
    last = browser.get("/files?dir=public_html/cache&page=3")
    assert NAMES.findall(last.text) == [f"f{n:03d}" for n in range(400, 450)] and 'rel="prev"' in last.text
    assert NAMES.findall(browser.get("/files?dir=public_html/cache&page=99").text)[0] == "f400"


def test_names_that_are_not_utf8_are_left_out_instead_of_breaking_the_page(browser: Browser, home: Path) -> None:
    (home / "public_html" / "ok.txt").write_text("ok")
    os.close(os.open(os.fsencode(home / "public_html") + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY, 0o644))
    browser.sign_in()
    page = browser.get("/files?dir=public_html")
    assert page.status_code == 200 and NAMES.findall(page.text) == ["ok.txt"]


def test_download_sends_the_bytes_as_an_attachment(browser: Browser, home: Path) -> None:
    data = os.urandom(70_000)
    (home / "public_html" / "photo one.bin").write_bytes(data)
    browser.sign_in()
    response = browser.get("/files/download?path=public_html/photo%20one.bin")
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''photo%20one.bin"
    assert response.headers["cache-control"] == "no-store"
    folder = browser.get("/files/download?path=public_html")
    assert folder.status_code == 400 and "is a directory, not a regular file" in folder.text


# Uploads -------------------------------------------------------------------------------------------------------


def test_upload_several_files_and_choose_whether_to_overwrite(
    browser: Browser, home: Path, container: Container
) -> None:
    browser.sign_in()
    browser.get("/files?dir=public_html")
    done = upload(browser, [("a.txt", b"first"), ("b.bin", bytes(range(256)))], dir="public_html")
    assert done.status_code == 200 and "The files were uploaded." in done.text
    assert str(done.url).endswith("/files?dir=public_html&notice=uploaded")
    assert (home / "public_html" / "a.txt").read_bytes() == b"first"
    assert (home / "public_html" / "b.bin").read_bytes() == bytes(range(256))
    assert stat.S_IMODE((home / "public_html" / "a.txt").stat().st_mode) == 0o644
    refused = upload(browser, [("a.txt", b"second")], dir="public_html")
    assert refused.status_code == 400
    assert re.search(r'id="files-error"[^>]*>No file was uploaded.</p>', refused.text)
    assert "The file “a.txt” already exists." in refused.text
    assert (home / "public_html" / "a.txt").read_bytes() == b"first"
    mixed = upload(browser, [("a.txt", b"second"), ("c.txt", b"new")], dir="public_html")
    assert mixed.status_code == 200 and "Upload of “c.txt” succeeded." in mixed.text
    assert "The file “a.txt” already exists." in mixed.text
    replaced = upload(browser, [("a.txt", b"second")], dir="public_html", overwrite="1")
    assert "The files were uploaded." in replaced.text and (home / "public_html" / "a.txt").read_bytes() == b"second"
    assert audit_actions(container).count("account:file:write") == 4
    assert staged(container) == []


def test_an_upload_without_files_or_with_bad_names_says_so_beside_the_field(browser: Browser, home: Path) -> None:
    browser.sign_in()
    browser.get("/files")
    nothing = upload(browser, [("", b"")], dir="public_html")  # a file input left empty
    assert nothing.status_code == 400
    assert re.search(r'id="files-error"[^>]*>Choose at least one file to upload.</p>', nothing.text)
    bad = upload(browser, [("a;b.txt", b"x")], dir="public_html")
    assert bad.status_code == 400 and "contains invalid characters for a filename" in bad.text
    assert not (home / "public_html" / "a;b.txt").exists()


@pytest.fixture
def small_uploads(settings: Settings, clock: FakeClock, alice: Account) -> Iterator[tuple[Browser, Container]]:
    """The same installation with a 1000-byte upload limit."""
    limited = Container(settings.model_copy(update={"max_upload_bytes": 1000}), clock=clock)
    with TestClient(create_app(limited), base_url="https://testserver") as client:
        yield Browser(client), limited
    limited.close()


@pytest.mark.parametrize("declared", [True, False])
def test_an_upload_over_the_limit_keeps_nothing_and_says_why(
    small_uploads: tuple[Browser, Container], home: Path, declared: bool
) -> None:
    browser, container = small_uploads
    browser.sign_in()
    browser.get("/files")
    body = multipart(
        [("csrf_token", None, browser.token.encode()), ("dir", None, b"tmp"), ("file", "big.bin", bytes(5000))]
    )
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    if declared:
        response = browser.client.post("/files/upload", content=body, headers=headers)
    else:  # chunked: the limit is found while the body streams in
        response = browser.client.post("/files/upload", content=iter([body[:3000], body[3000:]]), headers=headers)
    assert response.status_code == 413, messages(response) or response.text[-600:]
    assert "The files are larger than the upload limit of 1000 bytes in all: none was kept." in response.text
    assert 'aria-invalid="true"' in response.text and "<h1>File Manager</h1>" in response.text
    assert not (home / "tmp" / "big.bin").exists() and staged(container) == []


def nothing_was_planted(home: Path, container: Container) -> None:
    assert not (home / "planted.txt").exists() and not (home / "tmp" / "planted.txt").exists()
    assert staged(container) == [] and "account:file:write" not in audit_actions(container)


@pytest.mark.parametrize("attempt", ["no token", "a forged token", "the token after the file"])
def test_no_file_is_stored_without_this_sessions_csrf_token_before_it(
    browser: Browser, home: Path, container: Container, attempt: str
) -> None:
    browser.sign_in()
    browser.get("/files")
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    parts = {
        "no token": [("dir", None, b"tmp"), ("file", "planted.txt", b"x" * 100)],
        "a forged token": [("csrf_token", None, b"forged-token-value"), ("file", "planted.txt", b"x")],
        "the token after the file": [("file", "planted.txt", b"x"), ("csrf_token", None, browser.token.encode())],
    }[attempt]
    response = browser.client.post("/files/upload", content=multipart(parts), headers=headers)
    assert response.status_code == 403 and "This form has expired" in response.text
    nothing_was_planted(home, container)


def test_no_file_is_stored_from_another_site_even_with_the_token(
    browser: Browser, home: Path, container: Container
) -> None:
    browser.sign_in()
    browser.get("/files")
    cross_site = {"content-type": f"multipart/form-data; boundary={BOUNDARY}", "sec-fetch-site": "cross-site"}
    good_parts = [("csrf_token", None, browser.token.encode()), ("file", "planted.txt", b"x")]
    response = browser.client.post("/files/upload", content=multipart(good_parts), headers=cross_site)
    assert response.status_code == 403
    nothing_was_planted(home, container)


def test_an_upload_from_a_signed_out_browser_is_sent_to_sign_in(client: TestClient, home: Path) -> None:
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    body = multipart([("csrf_token", None, b"x" * 43), ("file", "planted.txt", b"x")])
    response = client.post("/files/upload", content=body, headers=headers, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    assert not (home / "planted.txt").exists()


# Folders, editing, moving, trash, delete -----------------------------------------------------------------------


def test_create_a_folder_or_see_why_not_beside_the_name(browser: Browser, home: Path) -> None:
    browser.sign_in()
    browser.get("/files?dir=public_html")
    made = browser.post("/files/mkdir", {"dir": "public_html", "name": "app"})
    assert "The folder was created." in made.text and "app" in NAMES.findall(made.text)
    assert stat.S_IMODE((home / "public_html" / "app").stat().st_mode) == 0o755
    for name, message in (("a/b", "contains invalid characters"), ("app", "already exists"), ("", "invalid")):
        refused = browser.post("/files/mkdir", {"dir": "public_html", "name": name})
        assert refused.status_code == 400
        error = re.search(r'<p class="field-error" id="name-error">([^<]*)</p>', refused.text)
        assert error and message in error.group(1), (name, refused.text[:200])


def test_edit_a_text_file_in_its_own_character_set_and_line_endings(
    browser: Browser, home: Path, container: Container
) -> None:
    target = home / "public_html" / "menu.txt"
    target.write_bytes("\ncafé crème\nthé\n".encode("iso8859-1"))
    browser.sign_in()
    form = browser.get("/files/edit?path=public_html/menu.txt")
    assert form.status_code == 200
    assert ">\n\ncafé crème\nthé\n</textarea>" in form.text  # the leading newline survives the HTML parser
    assert '<option value="iso8859-1" selected>' in form.text and 'name="newline" value="lf"' in form.text
    # A browser sends the textarea's lines with CR LF; the file keeps its LF endings and its character set.
    saved = browser.post(
        "/files/edit",
        {
            "path": "public_html/menu.txt",
            "charset": "iso8859-1",
            "newline": "lf",
            "content": "café crème\r\nthé vert\r\n",
        },
    )
    assert "The file was saved." in saved.text and str(saved.url).endswith("charset=iso8859-1&notice=file-saved")
    assert target.read_bytes() == "café crème\nthé vert\n".encode("iso8859-1")
    euro = {"path": "public_html/menu.txt", "charset": "iso8859-1", "newline": "lf", "content": "5 €\r\n"}
    refused = browser.post("/files/edit", euro)
    assert refused.status_code == 400 and "5 €\n</textarea>" in refused.text  # nothing typed is lost
    error = re.search(r'<p class="field-error" id="charset-error">([^<]*)</p>', refused.text)
    assert error and "cannot be written in iso8859-1" in error.group(1)
    assert target.read_bytes() == "café crème\nthé vert\n".encode("iso8859-1")
    fallback = browser.post("/files/edit", {**euro, "fallback": "1"})
    assert str(fallback.url).endswith("charset=utf-8&notice=file-saved") and target.read_bytes() == "5 €\n".encode()
    crlf = home / "public_html" / "dos.txt"
    crlf.write_bytes(b"a\r\nb\r\n")
    assert 'name="newline" value="crlf"' in browser.get("/files/edit?path=public_html/dos.txt").text
    browser.post(
        "/files/edit", {"path": "public_html/dos.txt", "charset": "utf-8", "newline": "crlf", "content": "c\r\n"}
    )
    assert crlf.read_bytes() == b"c\r\n"
    assert audit_actions(container).count("account:file:write") == 3


def test_the_editor_explains_files_it_cannot_show(browser: Browser, home: Path, container: Container) -> None:
    (home / "public_html" / "latin.txt").write_bytes("é".encode("iso8859-1"))
    big = home / "public_html" / "big.log"
    big.write_bytes(b"x" * (container.settings.max_file_content_bytes + 1))
    browser.sign_in()
    as_utf8 = browser.get("/files/edit?path=public_html/latin.txt&charset=utf-8")
    assert as_utf8.status_code == 400 and "<textarea" not in as_utf8.text
    error = re.search(r'id="open-charset-error">([^<]*)</p>', as_utf8.text)
    assert error and "is not valid utf-8" in error.group(1)
    too_big = browser.get("/files/edit?path=public_html/big.log")
    assert too_big.status_code == 400 and "more than the" in too_big.text and "<textarea" not in too_big.text
    assert "Download the file</a>" in too_big.text
    missing = browser.get("/files/edit?path=public_html/nothing.txt")
    assert missing.status_code == 400 and "“public_html/nothing.txt” does not exist." in missing.text
    unknown = browser.get("/files/edit?path=public_html/latin.txt&charset=klingon")
    assert unknown.status_code == 400 and "is not a character set this server knows" in unknown.text


def test_rename_or_move_and_see_refusals_in_the_row(browser: Browser, home: Path, container: Container) -> None:
    (home / "public_html" / "old.txt").write_text("x")
    (home / "public_html" / "taken.txt").write_text("y")
    browser.sign_in()
    browser.get("/files?dir=public_html")
    moved = browser.post(
        "/files/move", {"dir": "public_html", "path": "public_html/old.txt", "new_path": "etc/new.txt"}
    )
    assert "The file or folder was renamed or moved." in moved.text
    assert (home / "etc" / "new.txt").read_text() == "x" and not (home / "public_html" / "old.txt").exists()
    for target, message in (("public_html/taken.txt", "already exists"), ("../../x", "outside your home directory")):
        refused = browser.post("/files/move", {"dir": "etc", "path": "etc/new.txt", "new_path": target})
        assert refused.status_code == 400 and '<details class="rename" open>' in refused.text
        row = refused.text.split('<details class="rename" open>', 1)[1].split("</details>", 1)[0]
        assert message in row and f'value="{target}"' in row
    assert (home / "etc" / "new.txt").exists()
    assert "account:file:move" in audit_actions(container)


def test_trash_then_empty_the_trash_with_a_confirmation_in_sudo_mode(
    browser: Browser, home: Path, container: Container, clock: FakeClock
) -> None:
    (home / "public_html" / "old.html").write_text("x")
    browser.sign_in()
    browser.get("/files?dir=public_html")
    trashed = browser.post("/files/trash", {"dir": "public_html", "path": "public_html/old.html"})
    assert "Moved to the trash." in trashed.text and (home / ".trash" / "old.html").exists()
    trash = browser.get("/files?dir=.trash&hidden=1")
    assert NAMES.findall(trash.text) == ["old.html"] and 'href="/files/empty-trash"' in trash.text
    again = browser.post("/files/trash", {"dir": ".trash", "hidden": "1", "path": ".trash/old.html"})
    assert again.status_code == 400 and "is already in the trash" in again.text
    clock.advance(11 * 60)  # the sudo window of the sign-in has passed
    asked = browser.client.get("/files/empty-trash", follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"] == "/security/confirm?next=%2Ffiles%2Fempty-trash"
    browser.get("/security/confirm")
    confirmed = browser.post("/security/confirm", {"password": "Correct-Horse-Battery-9", "next": "/files/empty-trash"})
    assert "Empty the trash?" in confirmed.text
    emptied = browser.post("/files/empty-trash")
    assert "The trash is empty." in emptied.text and os.listdir(home / ".trash") == []


def test_delete_asks_first(browser: Browser, home: Path, container: Container) -> None:
    (home / "public_html" / "gone").mkdir()
    (home / "public_html" / "gone" / "inside.txt").write_text("x")
    browser.sign_in()
    confirm = browser.get("/files/delete?path=public_html/gone&dir=public_html")
    assert "Delete “gone” for good?" in confirm.text and "and everything in it" in confirm.text
    assert (home / "public_html" / "gone").exists()
    done = browser.post("/files/delete", {"path": "public_html/gone", "dir": "public_html"})
    assert "Deleted for good." in done.text and not (home / "public_html" / "gone").exists()
    assert "account:file:delete" in audit_actions(container)
    missing = browser.get("/files/delete?path=public_html/gone")
    assert missing.status_code == 400 and "does not exist" in missing.text


# Confinement ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["..", "../..", "../../hostpanel.db", "/etc", "/etc/passwd", "public_html/../../x"])
def test_paths_outside_the_home_are_refused_on_every_page(browser: Browser, home: Path, path: str) -> None:
    browser.sign_in()
    browser.get("/files")
    answers: list[Answer] = [
        browser.client.get("/files", params={"dir": path}),
        browser.client.get("/files/download", params={"path": path}),
        browser.client.get("/files/edit", params={"path": path}),
        browser.client.get("/files/delete", params={"path": path}),
        browser.post("/files/edit", {"path": path, "charset": "utf-8", "content": "planted"}),
        browser.post("/files/mkdir", {"dir": path, "name": "planted"}),
        browser.post("/files/move", {"path": "public_html", "new_path": path}),
        browser.post("/files/move", {"path": path, "new_path": "stolen"}),
        browser.post("/files/trash", {"path": path}),
        browser.post("/files/delete", {"path": path}),
        upload(browser, [("planted.txt", b"x")], dir=path),
    ]
    for response in answers:
        shown = messages(response)
        assert response.status_code == 400, (response.request.method, response.url, shown)
        assert "outside your home directory" in shown or "not the home itself" in shown, (response.url, shown)
    assert (home / "public_html").is_dir() and not (home / "stolen").exists()
    assert not (home.parent / "planted").exists() and not (home.parent / "planted.txt").exists()


def test_planted_links_are_never_followed(browser: Browser, home: Path, outside: Path) -> None:
    (home / "public_html" / "door").symlink_to(outside)
    (home / "public_html" / "leak").symlink_to(outside / "passwd")
    (home / "public_html" / "inside").symlink_to(home / "etc")  # even a link within the home is not followed
    browser.sign_in()
    listed = browser.get("/files?dir=public_html")
    assert "Link (not followed)" in listed.text and 'href="/files?dir=public_html%2Fdoor"' not in listed.text
    answers: list[Answer] = [
        browser.client.get("/files", params={"dir": "public_html/door"}),
        browser.client.get("/files", params={"dir": "public_html/inside"}),
        browser.client.get("/files/download", params={"path": "public_html/leak"}),
        browser.client.get("/files/download", params={"path": "public_html/door/passwd"}),
        browser.client.get("/files/edit", params={"path": "public_html/leak"}),
        browser.client.get("/files/edit", params={"path": "public_html/door/passwd"}),
        browser.post("/files/edit", {"path": "public_html/leak", "charset": "utf-8", "content": "owned"}),
        browser.post("/files/edit", {"path": "public_html/door/passwd", "charset": "utf-8", "content": "owned"}),
        browser.post("/files/mkdir", {"dir": "public_html/door", "name": "planted"}),
        browser.post("/files/move", {"path": "public_html/door/passwd", "new_path": "stolen"}),
        browser.post("/files/move", {"path": "etc", "new_path": "public_html/door/etc"}),
        browser.post("/files/trash", {"path": "public_html/door/passwd"}),
        browser.post("/files/delete", {"path": "public_html/door/passwd"}),
        upload(browser, [("planted.txt", b"x")], dir="public_html/door"),
    ]
    for response in answers:
        shown = messages(response)
        assert response.status_code == 400, (response.request.method, response.url, shown)
        assert "symbolic link" in shown, (response.request.method, response.url, shown)
        assert SECRET not in response.text
    assert sorted(os.listdir(outside)) == ["passwd"] and (outside / "passwd").read_text() == SECRET
    assert (home / "etc").is_dir() and not (home / "stolen").exists()
    # Deleting a link removes the link itself, never what it points to.
    browser.post("/files/delete", {"path": "public_html/leak", "dir": "public_html"})
    assert not (home / "public_html" / "leak").is_symlink() and (outside / "passwd").read_text() == SECRET


def test_the_file_manager_is_refused_when_its_feature_is_off(
    browser: Browser, container: Container, home: Path
) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["filemanager"], [])
        uow.commit()
    browser.sign_in()
    page = browser.get("/files")
    assert page.status_code == 403 and "You do not have the feature “filemanager”." in page.text
    assert 'href="/files"' not in page.text and 'href="/backups"' in page.text  # not offered in the navigation
    (home / "public_html" / "x.txt").write_text("x")
    assert browser.get("/files/download?path=public_html/x.txt").status_code == 403
    refused = upload(browser, [("planted.txt", b"x")], dir="tmp")
    assert refused.status_code == 403 and not (home / "tmp" / "planted.txt").exists()
    assert staged(container) == []
