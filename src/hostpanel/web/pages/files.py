"""Files → File Manager: browse the home, upload, make folders, edit text files, rename or move, trash, delete and
download. Every path the browser sends is parsed and opened by Fileman's confinement point (domain/files/jail.py)
through the FileService the UAPI uses: no page opens a path itself."""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from hostpanel.domain.errors import HostpanelError, InvalidInput
from hostpanel.domain.files.paths import HomePath, utf8_name
from hostpanel.domain.files.service import DETECT, TRASH, FileInfo, FileService, charset
from hostpanel.domain.sizes import human_size
from hostpanel.http.files import file_response
from hostpanel.web.page import PageContext

PAGE_SIZE = 200  # entries per page: a folder of thousands stays quick to render
FOLDER_MODE = 0o755  # the modes the UAPI gives new folders and uploaded files by default
FILE_MODE = 0o644
CHARSETS = (
    ("utf-8", "UTF-8"),
    ("iso8859-1", "ISO-8859-1 (Western European)"),
    ("iso8859-15", "ISO-8859-15 (Western European with €)"),
    ("cp1252", "Windows-1252"),
)
# Paths named in links and hidden fields have no field of their own on the page: their messages go atop it.
TOP: dict[str, str | None] = {"dir": None, "path": None, "file": None}
EDITOR_FIELDS: dict[str, str | None] = {**TOP, "from_charset": "charset", "to_charset": "charset"}
RENAME_FIELDS: dict[str, str | None] = {"dir": None, "path": "rename", "new_path": "rename"}


@dataclass(frozen=True)
class Folder:
    """The folder on screen and whether hidden names are shown; builds the links that keep both."""

    path: HomePath
    hidden: bool

    @property
    def relative(self) -> str:
        return self.path.relative

    @property
    def shown(self) -> str:
        return f"~/{self.path.relative}" if self.path.parts else "your home folder"

    @property
    def crumbs(self) -> list[tuple[str, str]]:
        """(name, link) from the home down to this folder."""
        parts = self.path.parts
        return [("Home", self.open(HomePath()))] + [
            (name, self.open(HomePath(parts[: depth + 1]))) for depth, name in enumerate(parts)
        ]

    @property
    def in_trash(self) -> bool:
        return self.path.is_within(HomePath((TRASH,)))

    def open(self, path: HomePath) -> str:
        return "/files?" + urlencode(_where(path.relative, self.hidden))

    def action(self, page: str, entry: Entry) -> str:
        """A link to act on an entry (edit, download, delete) that comes back to this folder."""
        return f"/files/{page}?" + urlencode({"path": entry.path, **_where(self.relative, self.hidden)})

    def page(self, number: int) -> str:
        return "/files?" + urlencode({**_where(self.relative, self.hidden), "page": str(number)})

    def toggle_hidden(self) -> str:
        return "/files?" + urlencode(_where(self.relative, not self.hidden))

    @property
    def trash(self) -> str:
        return "/files?" + urlencode(_where(TRASH, True))


@dataclass(frozen=True)
class Entry:
    """One row of the listing."""

    info: FileInfo

    @property
    def name(self) -> str:
        return self.info.path.name

    @property
    def path(self) -> str:
        return self.info.path.relative

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def size(self) -> str:
        return "" if self.kind == "dir" else human_size(self.info.stat.st_size)

    @property
    def modified(self) -> float:
        return self.info.stat.st_mtime

    @property
    def mode(self) -> str:
        return f"{stat.S_IMODE(self.info.stat.st_mode):04o}"

    @property
    def symbolic(self) -> str:
        return stat.filemode(self.info.stat.st_mode)


def _where(directory: str, hidden: bool) -> dict[str, str]:
    return {"dir": directory, **({"hidden": "1"} if hidden else {})}


def _hidden_shown(ctx: PageContext) -> bool:
    return (ctx.form.get("hidden") or ctx.query.get("hidden")) == "1"


def _files(ctx: PageContext) -> FileService:
    return ctx.services.files


def _back(ctx: PageContext) -> tuple[str, bool]:
    """The folder a form was sent from (shown again afterwards) and whether it showed hidden names."""
    return str(ctx.form.get("dir", "")), ctx.form.get("hidden") == "1"


def _show(
    ctx: PageContext,
    files: FileService,
    where: str,
    hidden: bool,
    error: HostpanelError | None = None,
    *,
    fields: dict[str, str | None] = TOP,
    **extra: Any,
) -> Response:
    """The folder `where` (the home when that cannot be listed), with `error` beside its field or atop the page."""
    try:
        folder = Folder(files.jail.path(where, "dir"), hidden)
        entries = _entries(files, folder)
    except HostpanelError as failure:
        error = error or failure
        folder = Folder(HomePath(), hidden)
        entries = _entries(files, folder)
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    wanted = ctx.query.get("page", "")
    number = max(1, min(pages, int(wanted))) if wanted.isascii() and wanted.isdigit() and len(wanted) < 7 else 1
    limit = ctx.services.limits.max_upload_bytes
    values = {
        "folder": folder,
        "entries": entries[(number - 1) * PAGE_SIZE : number * PAGE_SIZE],
        "total": len(entries),
        "page": number,
        "pages": pages,
        "limit": limit,
        "limit_text": human_size(limit),
        **extra,
    }
    if error is None:
        return ctx.render("files.html", **values)
    return ctx.form_error(error, "files.html", fields=fields, **values)


def _entries(files: FileService, folder: Folder) -> list[Entry]:
    # Names that are not UTF-8 cannot be shown or sent back by a form, as in the UAPI's listing.
    items = files.listing(folder.path, show_hidden=folder.hidden, types=None)
    return [Entry(item) for item in items if utf8_name(item.path.name)]


def _redirect_to(ctx: PageContext, where: str, hidden: bool, notice: str) -> Response:
    return ctx.redirect("/files", notice, **_where(where, hidden))


# Browsing and downloading --------------------------------------------------------------------------------------


def browse(ctx: PageContext) -> Response:
    return _show(ctx, _files(ctx), ctx.query.get("dir", ""), ctx.query.get("hidden") == "1")


def download(ctx: PageContext) -> Response:
    files = _files(ctx)
    try:
        opened = files.download(files.jail.path(ctx.query.get("path", ""), "path"))
    except HostpanelError as error:
        return _show(ctx, files, ctx.query.get("dir", ""), ctx.query.get("hidden") == "1", error)
    return file_response(opened)


# Changing the folder -------------------------------------------------------------------------------------------


def upload(ctx: PageContext) -> Response:
    files = _files(ctx)
    where, hidden = _back(ctx)
    if ctx.upload_too_large:
        limit = human_size(ctx.services.limits.max_upload_bytes)
        refused = InvalidInput("files", f"The files are larger than the upload limit of {limit} in all: none was kept.")
        response = _show(ctx, files, where, hidden, refused)
        response.status_code = 413
        return response
    if not ctx.uploads:
        return _show(ctx, files, where, hidden, InvalidInput("files", "Choose at least one file to upload."))
    try:
        directory = files.jail.path(where, "dir")
        outcomes = files.upload(directory, ctx.uploads, overwrite=ctx.form.get("overwrite") == "1", mode=FILE_MODE)
    except HostpanelError as error:
        return _show(ctx, files, where, hidden, error)
    if all(outcome.ok for outcome in outcomes):
        return _redirect_to(ctx, where, hidden, "uploaded")
    if not any(outcome.ok for outcome in outcomes):
        refused = InvalidInput("files", "No file was uploaded.")
        return _show(ctx, files, where, hidden, refused, outcomes=outcomes)
    return _show(ctx, files, where, hidden, outcomes=outcomes)


def make_folder(ctx: PageContext) -> Response:
    files = _files(ctx)
    where, hidden = _back(ctx)
    name = str(ctx.form.get("name", ""))
    try:
        files.mkdir(files.jail.child(files.jail.path(where, "dir"), name, "name"), FOLDER_MODE)
    except HostpanelError as error:
        return _show(ctx, files, where, hidden, error, fields={**TOP, "path": "name"}, new_folder=name)
    return _redirect_to(ctx, where, hidden, "folder-created")


def move(ctx: PageContext) -> Response:
    """Rename or move: the new path is relative to the home, like the old one."""
    files = _files(ctx)
    where, hidden = _back(ctx)
    source, target = str(ctx.form.get("path", "")), str(ctx.form.get("new_path", "")).strip()
    try:
        files.rename(files.jail.path(source, "path"), files.jail.destination(target, "new_path"))
    except HostpanelError as error:
        return _show(ctx, files, where, hidden, error, fields=RENAME_FIELDS, renaming=source, new_path=target)
    return _redirect_to(ctx, where, hidden, "moved")


def _on_path(ctx: PageContext, action: Callable[[FileService, HomePath], object], notice: str) -> Response:
    """Do `action` to the posted path; back to the folder the form came from, with the notice or the error."""
    files = _files(ctx)
    where, hidden = _back(ctx)
    try:
        action(files, files.jail.path(str(ctx.form.get("path", "")), "path"))
    except HostpanelError as error:
        return _show(ctx, files, where, hidden, error)
    return _redirect_to(ctx, where, hidden, notice)


def trash(ctx: PageContext) -> Response:
    return _on_path(ctx, FileService.trash, "trashed")


def delete_form(ctx: PageContext) -> Response:
    files = _files(ctx)
    where, hidden = ctx.query.get("dir", ""), ctx.query.get("hidden") == "1"
    try:
        target = files.info(files.jail.path(ctx.query.get("path", ""), "path"))
    except HostpanelError as error:
        return _show(ctx, files, where, hidden, error)
    return ctx.render("file_delete.html", entry=Entry(target), where=where, hidden=hidden)


def delete(ctx: PageContext) -> Response:
    return _on_path(ctx, FileService.delete, "deleted")


def empty_trash_form(ctx: PageContext) -> Response:
    return ctx.render("trash_empty.html")


def empty_trash(ctx: PageContext) -> Response:
    _files(ctx).empty_trash(0)
    return _redirect_to(ctx, TRASH, True, "trash-emptied")


# Editing -------------------------------------------------------------------------------------------------------


def _editor(
    ctx: PageContext,
    files: FileService,
    text: str,
    content: str | None,
    chosen: str,
    *,
    newline: str = "lf",
    fallback: bool = False,
) -> dict[str, Any]:
    """The editor's values; `text` is the path as sent (its folder is linked only when the jail accepts it)."""
    try:
        path = files.jail.path(text, "path")
    except HostpanelError:
        path = HomePath()
    charsets = list(CHARSETS)
    if chosen not in {value for value, _ in charsets}:
        charsets.append((chosen, chosen))
    return {
        "path": text,
        "name": path.name or text,
        "folder": Folder(path.parent, _hidden_shown(ctx)),
        "content": content,
        "charset": chosen,
        "charsets": charsets,
        "newline": newline,
        "fallback": fallback,
    }


def edit_form(ctx: PageContext) -> Response:
    """The file's text in the character set asked for; by default UTF-8, else ISO-8859-1 (the service decides)."""
    files = _files(ctx)
    text = ctx.query.get("path", "")
    wanted = ctx.query.get("charset") or DETECT
    try:
        path = files.jail.path(text, "path")
        content, used = files.read_text(path, charset(wanted, "from_charset"))
    except HostpanelError as error:
        shown = wanted if wanted != DETECT else "utf-8"
        return ctx.form_error(error, "file_edit.html", fields=EDITOR_FIELDS, **_editor(ctx, files, text, None, shown))
    # Browsers send a textarea's lines ending in CR LF; a file with LF endings keeps them when saved.
    newline = "crlf" if "\r\n" in content else "lf"
    return ctx.render("file_edit.html", **_editor(ctx, files, path.relative, content, used, newline=newline))


def save(ctx: PageContext) -> Response:
    files = _files(ctx)
    form = ctx.form
    text, chosen = str(form.get("path", "")), str(form.get("charset", ""))
    newline = "crlf" if form.get("newline") == "crlf" else "lf"
    content = str(form.get("content", ""))
    if newline == "lf":
        content = content.replace("\r\n", "\n")
    fallback = form.get("fallback") == "1"
    try:
        path = files.jail.path(text, "path")
        written = files.save(path, content, charset(chosen, "to_charset"), fallback)
    except HostpanelError as error:
        values = _editor(ctx, files, text, content, chosen, newline=newline, fallback=fallback)
        return ctx.form_error(error, "file_edit.html", fields=EDITOR_FIELDS, **values)
    shown = {"hidden": "1"} if _hidden_shown(ctx) else {}
    return ctx.redirect("/files/edit", "file-saved", path=path.relative, charset=written, **shown)
