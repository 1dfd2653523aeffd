"""UAPI `Fileman`: cPanel's functions and fields, plus our mkdir, rename, trash, delete and download.

Paths are relative to the home (or absolute inside it); every one goes through the confinement point.
"""

from __future__ import annotations

import stat
from typing import Any

from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.files.jail import Jail
from hostpanel.domain.files.paths import HomePath, utf8_name
from hostpanel.domain.files.service import MAX_FILES, Download, FileInfo, charset, parse_permissions
from hostpanel.domain.permissions import Access, ScopeModule
from hostpanel.domain.sizes import human_size
from hostpanel.functions.call import Call, FailureWithData
from hostpanel.functions.registry import Module, Param

module = Module(
    "Fileman", ScopeModule.FILEMAN, "Files in the home directory: list, read, write, upload, move, trash, delete."
)

TYPES = ("file", "dir", "char", "block", "fifo", "link", "socket")
DIR = Param("dir", "A folder, relative to the home (or absolute inside it); default: the home.")
FILE = Param("file", "A file name in `dir` (no `/`).", True)
PATH = Param("path", "A file or folder, relative to the home (or absolute inside it).", True)
SHOW_HIDDEN = Param("show_hidden", "1 to include names starting with a dot.", type="boolean")


def file_record(jail: Jail, item: FileInfo) -> dict[str, Any]:
    """cPanel's record for one directory entry (`list_files`, `get_file_information`)."""
    info = item.stat
    directory = jail.absolute(item.path.parent)
    return {
        "file": item.path.name,
        "fullpath": jail.absolute(item.path),
        "path": directory,
        "absdir": directory,
        "type": item.kind,
        "size": info.st_size,
        "humansize": human_size(info.st_size),
        "mtime": int(info.st_mtime),
        "ctime": int(info.st_ctime),
        "mode": info.st_mode,
        "nicemode": f"{stat.S_IMODE(info.st_mode):04o}",
        "uid": info.st_uid,
        "gid": info.st_gid,
        "exists": 1,
    }


def _file_in_dir(call: Call, *, existing: bool) -> HomePath:
    jail = call.services.files.jail
    directory = jail.path(call.args.get("dir") or "", "dir")
    return jail.child(directory, call.args.require("file"), "file", existing=existing)


@module.function(
    "list_files",
    Access.READ,
    "A folder's entries: folders first, then files, each by name.",
    returns_list=True,
    params=(
        DIR,
        Param("types", "Only these types, separated by `|`: file, dir, char, block, fifo, link, socket."),
        SHOW_HIDDEN,
    ),
)
def list_files(call: Call) -> list[dict[str, Any]]:
    files = call.services.files
    directory = files.jail.path(call.args.get("dir") or "", "dir")
    types = None
    if wanted := call.args.get("types"):
        types = frozenset(wanted.split("|"))
        if unknown := sorted(types - set(TYPES)):
            raise InvalidInput("types", f"“{'|'.join(unknown)}” is not a file type. Use: {'|'.join(TYPES)}.")
    items = files.listing(directory, show_hidden=call.args.flag("show_hidden"), types=types)
    shown = [item for item in items if utf8_name(item.path.name)]
    if len(shown) < len(items):
        call.warnings.append(f"{len(items) - len(shown)} entries have names that are not UTF-8 and are not listed.")
    return [file_record(files.jail, item) for item in shown]


@module.function(
    "get_file_information", Access.READ, "One file's or folder's record, as list_files gives it.", params=(PATH,)
)
def get_file_information(call: Call) -> dict[str, Any]:
    files = call.services.files
    return file_record(files.jail, files.info(files.jail.path(call.args.require("path"), "path")))


@module.function(
    "get_file_content",
    Access.READ,
    "A text file's content (up to HOSTPANEL_MAX_FILE_CONTENT_BYTES; larger files: download).",
    params=(
        DIR,
        FILE,
        Param("from_charset", "The file's character set (default utf-8; _DETECT_ tries utf-8, then ISO-8859-1)."),
        Param("to_charset", "Accepted for compatibility: the answer is JSON, so always UTF-8."),
    ),
)
def get_file_content(call: Call) -> dict[str, Any]:
    path = _file_in_dir(call, existing=True)
    source = charset(call.args.get("from_charset"), "from_charset")
    content, used = call.services.files.read_text(path, source)
    return {
        "dir": call.services.files.jail.absolute(path.parent),
        "filename": path.name,
        "path": call.services.files.jail.absolute(path),
        "from_charset": used,
        "to_charset": "utf-8",
        "content": content,
    }


@module.function(
    "save_file_content",
    Access.WRITE,
    "Create or overwrite a text file (written whole, then moved into place).",
    params=(
        DIR,
        FILE,
        Param("content", "The text; absent means an empty file."),
        Param("from_charset", "Accepted for compatibility: form arguments arrive as UTF-8."),
        Param("to_charset", "The character set to write the file in (default utf-8)."),
        Param("fallback", "1 to write UTF-8 when the text does not fit `to_charset`.", type="boolean"),
    ),
)
def save_file_content(call: Call) -> dict[str, Any]:
    path = _file_in_dir(call, existing=False)
    target = charset(call.args.get("to_charset"), "to_charset")
    written = call.services.files.save(path, call.args.get("content") or "", target, call.args.flag("fallback"))
    return {"path": call.services.files.jail.absolute(path), "from_charset": "utf-8", "to_charset": written}


@module.function(
    "upload_files",
    Access.WRITE,
    f"Upload files (multipart/form-data, up to {MAX_FILES} file parts) into a folder, made if missing.",
    accepts_uploads=True,
    params=(
        Param("dir", "The folder to upload into; default: the home."),
        Param("overwrite", "1 to replace existing files (default 0: refuse them).", type="boolean"),
        Param("permissions", "Octal mode of the new files, e.g. 0644 (the default)."),
    ),
)
def upload_files(call: Call) -> dict[str, Any]:
    files = call.services.files
    directory = files.jail.path(call.args.get("dir") or "", "dir")
    mode = parse_permissions(call.args.get("permissions"), 0o644)
    overwrite = call.args.flag("overwrite")
    if not call.uploads:
        raise InvalidInput("file", "You must specify at least one file to upload.")
    outcomes = files.upload(directory, call.uploads, overwrite=overwrite, mode=mode)
    data = {
        "uploads": [
            {"file": o.file, "size": o.size, "status": 1 if o.ok else 0, "reason": o.reason, "warnings": []}
            for o in outcomes
        ],
        "succeeded": sum(1 for o in outcomes if o.ok),
        "warned": 0,
        "failed": sum(1 for o in outcomes if not o.ok),
    }
    if not data["succeeded"]:
        raise FailureWithData("Failed to upload any of the requested files with various failures.", data)
    return data


@module.function(
    "download",
    Access.READ,
    "A file's raw bytes (Content-Disposition: attachment), not a JSON result; errors are JSON as usual.",
    returns_file=True,
    params=(DIR, FILE),
)
def download(call: Call) -> Download:
    return call.services.files.download(_file_in_dir(call, existing=True))


@module.function(
    "mkdir",
    Access.WRITE,
    "Create a folder.",
    params=(
        Param("path", "The folder to create it in; default: the home."),
        Param("name", "The new folder's name.", True),
        Param("permissions", "Octal mode, e.g. 0755 (the default)."),
    ),
)
def mkdir(call: Call) -> dict[str, Any]:
    jail = call.services.files.jail
    target = jail.child(jail.path(call.args.get("path") or "", "path"), call.args.require("name"), "name")
    call.services.files.mkdir(target, parse_permissions(call.args.get("permissions"), 0o755))
    return {"path": jail.absolute(target)}


@module.function(
    "rename",
    Access.WRITE,
    "Rename or move a file or folder; never replaces an existing one.",
    params=(PATH, Param("new_path", "The new path (relative to the home, or absolute inside it).", True)),
)
def rename(call: Call) -> dict[str, Any]:
    jail = call.services.files.jail
    source = jail.path(call.args.require("path"), "path")
    target = jail.destination(call.args.require("new_path"), "new_path")
    call.services.files.rename(source, target)
    return {"path": jail.absolute(source), "new_path": jail.absolute(target)}


@module.function(
    "trash", Access.WRITE, "Move a file or folder to ~/.trash (a name already there gets .1, .2, ...).", params=(PATH,)
)
def trash(call: Call) -> dict[str, Any]:
    jail = call.services.files.jail
    source = jail.path(call.args.require("path"), "path")
    target = call.services.files.trash(source)
    return {"path": jail.absolute(source), "trash_path": jail.absolute(target)}


@module.function(
    "empty_trash",
    Access.WRITE,
    "Delete what is in ~/.trash for good.",
    params=(
        Param("older_than", "Only what was trashed more than this many days ago (0: everything).", type="integer"),
    ),
)
def empty_trash(call: Call) -> None:
    call.services.files.empty_trash(call.args.integer("older_than", 0, maximum=36500) or 0)


@module.function("delete", Access.WRITE, "Delete a file, link or folder (with its content) for good.", params=(PATH,))
def delete(call: Call) -> dict[str, Any]:
    jail = call.services.files.jail
    path = jail.path(call.args.require("path"), "path")
    kind = call.services.files.delete(path)
    return {"path": jail.absolute(path), "type": kind}
