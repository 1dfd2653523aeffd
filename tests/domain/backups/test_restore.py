"""Restores under attack: crafted archives that try to write outside the home, plant links, smuggle devices, or
differ from their manifest. Each must be refused with nothing restored and nothing left in the staging area."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.backups.archive import manifest_line
from hostpanel.domain.backups.restore import RestoreRefused, RestoreSummary, _member_parts, restore
from hostpanel.domain.errors import RestrictionDenied
from hostpanel.domain.files.jail import Jail
from hostpanel.domain.files.paths import HomePath
from hostpanel.domain.files.staging import Staging
from hostpanel.domain.tokens.restrictions import FilemanPaths

TOP = "backup-1.2.2027_03-04-05_alice"
Member = tuple[str, str, Any]  # (name below the top folder, kind, content or link target)


def build(members: list[Member], manifest: list[dict[str, Any]] | None = None, with_manifest: bool = True) -> bytes:
    """A gzip tar like a backup's; the manifest is computed from the members unless one is given."""
    lines: list[dict[str, Any]] = []
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, kind, content in members:
            info = tarfile.TarInfo(name if name.startswith("/") else f"{TOP}/{name}")
            data = None
            if kind == "file":
                data = content
                info.size = len(data)
                lines.append(
                    {"path": name, "type": "file", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                )
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                lines.append({"path": name, "type": "dir"})
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, content
                lines.append({"path": name, "type": "link", "target": content})
            else:
                info.type = {"hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE}[kind]
                info.linkname = content or ""
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
        if with_manifest:
            text = b"".join(manifest_line(line) for line in (manifest if manifest is not None else lines))
            info = tarfile.TarInfo(f"{TOP}/manifest.jsonl")
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text))
    return out.getvalue()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "homes" / "alice"
    (path / "public_html").mkdir(parents=True)
    (path / "public_html" / "index.html").write_text("live")
    (tmp_path / "etc").mkdir()
    return path


@pytest.fixture
def staging(tmp_path: Path) -> Staging:
    return Staging(tmp_path / "homes" / ".staging")


def run(
    home: Path, staging: Staging, data: bytes, jail: Jail | None = None, scope: str | None = None
) -> RestoreSummary:
    staged = staging.create_dir("alice", "restore")
    try:
        return restore(
            io.BytesIO(data),
            staged=staged,
            jail=jail or Jail(home, "alice"),
            scope=HomePath(tuple(scope.split("/"))) if scope else None,
            spool_dir=staging.user_dir("alice"),
            on_bytes=lambda _n: None,
        )
    finally:
        staged.discard()


def snapshot(root: Path) -> dict[str, bytes | str]:
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        found[key] = os.readlink(path) if path.is_symlink() else path.read_bytes() if path.is_file() else "dir"
    return found


GOOD: list[Member] = [
    ("meta/account.json", "file", b"{}"),
    ("homedir", "dir", None),
    ("homedir/public_html", "dir", None),
    ("homedir/public_html/index.html", "file", b"from the backup"),
    ("homedir/public_html/current", "link", "index.html"),
]


def test_a_good_archive_is_restored(home: Path, staging: Staging) -> None:
    summary = run(home, staging, build(GOOD))
    assert (summary.files, summary.links, summary.directories) == (1, 1, 1)
    assert (home / "public_html" / "index.html").read_text() == "from the backup"
    assert os.readlink(home / "public_html" / "current") == "index.html"
    assert os.listdir(staging.user_dir("alice")) == []


ATTACKS: dict[str, tuple[list[Member], str]] = {
    "zip-slip": (
        [*GOOD, ("homedir/../../../../etc/evil", "file", b"x")],
        "would escape its folder",
    ),
    "absolute name": ([*GOOD, ("/etc/evil", "file", b"x")], "absolute path"),
    "link to an absolute path": ([*GOOD, ("homedir/etc-link", "link", "/etc")], "points outside the home"),
    "link climbing out": ([*GOOD, ("homedir/public_html/up", "link", "../../..")], "points outside the home"),
    "link to the home's parent": ([*GOOD, ("homedir/up", "link", "..")], "points outside the home"),
    # Lexically a/etc; the kernel follows a/b/s to the home first, so `..` after it climbs out to ../etc.
    "link climbing out through another link": (
        [
            *GOOD,
            ("homedir/a", "dir", None),
            ("homedir/a/b", "dir", None),
            ("homedir/a/b/s", "link", "../.."),
            ("homedir/escape", "link", "a/b/s/../../etc"),
        ],
        "points outside the home",
    ),
    "file written through a link": (
        [*GOOD, ("homedir/l", "link", "public_html"), ("homedir/l/x", "file", b"x")],
        "would be written through a link",
    ),
    "hard link": ([*GOOD, ("homedir/passwd", "hardlink", "/etc/passwd")], "a hard link"),
    "device": ([*GOOD, ("homedir/mem", "chr", None)], "a device"),
    "fifo": ([*GOOD, ("homedir/pipe", "fifo", None)], "a FIFO"),
    "a member twice": ([*GOOD, ("homedir/public_html/index.html", "file", b"again")], "twice"),
    "an unknown section": ([*GOOD, ("elsewhere/x", "file", b"x")], "did not write"),
    "another top folder": ([*GOOD, ("../other/homedir/x", "file", b"x")], "escape"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_crafted_archives_restore_nothing(home: Path, staging: Staging, attack: str, tmp_path: Path) -> None:
    members, message = ATTACKS[attack]
    before, outside = snapshot(home), snapshot(tmp_path / "etc")
    with pytest.raises(RestoreRefused, match=message):
        run(home, staging, build(members))
    assert snapshot(home) == before and snapshot(tmp_path / "etc") == outside
    assert os.listdir(staging.user_dir("alice")) == []


def broken_manifests() -> dict[str, tuple[bytes, str]]:
    """The honest archive (it restores, above) with its manifest wrong in one way each, and the refusal's words."""
    lines = [{"path": n, "type": k, **_expected(k, c)} for n, k, c in GOOD]
    wrong_hash = [dict(line) for line in lines]
    wrong_hash[3]["sha256"] = "0" * 64
    return {
        "mismatch": (build(GOOD, wrong_hash), "The checksum of “homedir/public_html/index.html” does not match"),
        "listed but absent": (build(GOOD, [*lines, {"path": "homedir/x", "type": "dir"}]), "which the archive lacks"),
        "present but not listed": (build(GOOD, lines[:-1]), "which its manifest does not list"),
        "no manifest": (build(GOOD, with_manifest=False), "has no manifest"),
        "not an archive": (b"this is not a gzip stream" * 100, "damaged or not a .tar.gz"),
    }


@pytest.mark.parametrize(
    "label", ["mismatch", "listed but absent", "present but not listed", "no manifest", "not an archive"]
)
def test_the_manifest_must_match_exactly(home: Path, staging: Staging, label: str) -> None:
    data, message = broken_manifests()[label]
    before = snapshot(home)
    with pytest.raises(RestoreRefused, match=message):
        run(home, staging, data)
    assert snapshot(home) == before, label


def test_nothing_may_follow_the_manifest(home: Path, staging: Staging) -> None:
    good = build(GOOD)
    assert good  # the honest archive restores (above); with a member after its manifest it is refused
    after_manifest = io.BytesIO()
    with tarfile.open(fileobj=after_manifest, mode="w:gz") as tar, tarfile.open(fileobj=io.BytesIO(good)) as source:
        for member in source.getmembers():
            tar.addfile(member, source.extractfile(member) if member.isfile() else None)
        extra = tarfile.TarInfo(f"{TOP}/homedir/late")
        extra.size = 1
        tar.addfile(extra, io.BytesIO(b"x"))
    with pytest.raises(RestoreRefused, match="after its manifest"):
        run(home, staging, after_manifest.getvalue())


def _expected(kind: str, content: Any) -> dict[str, Any]:
    if kind == "file":
        return {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
    if kind == "link":
        return {"target": content}
    return {}


def test_a_restore_keeps_to_its_scope_and_to_the_token_paths(home: Path, staging: Staging) -> None:
    members = [*GOOD, ("homedir/etc", "dir", None), ("homedir/etc/app.conf", "file", b"config")]
    (home / "public_html" / "index.html").write_text("changed")
    summary = run(home, staging, build(members), scope="etc")
    assert summary.files == 1 and (home / "etc" / "app.conf").read_text() == "config"
    assert (home / "public_html" / "index.html").read_text() == "changed"
    restricted = Jail(home, "alice", FilemanPaths.parse(["public_html"]))
    with pytest.raises(RestrictionDenied):
        run(home, staging, build(members), jail=restricted)
    assert (home / "public_html" / "index.html").read_text() == "changed"
    run(home, staging, build(members), jail=restricted, scope="public_html")
    assert (home / "public_html" / "index.html").read_text() == "from the backup"


def test_a_link_in_the_home_is_replaced_never_written_through(home: Path, staging: Staging, tmp_path: Path) -> None:
    (home / "public_html" / "index.html").unlink()
    (home / "public_html" / "index.html").symlink_to(tmp_path / "etc" / "target")
    (tmp_path / "etc" / "target").write_text("outside")
    run(home, staging, build(GOOD))
    assert (tmp_path / "etc" / "target").read_text() == "outside"
    assert not (home / "public_html" / "index.html").is_symlink()
    assert (home / "public_html" / "index.html").read_text() == "from the backup"


@given(st.lists(st.sampled_from(["homedir", "..", ".", "", "a", "/", "\\", "\n", "meta"]), max_size=6))
def test_any_member_name_accepted_stays_inside_the_archive_folder(parts: list[str]) -> None:
    name = TOP + "/" + "/".join(parts)
    try:
        accepted = _member_parts(name)
    except RestoreRefused:
        return
    assert accepted[0] == TOP and all(part not in ("", ".", "..") and "\\" not in part for part in accepted)


def test_a_sparse_member_is_refused_before_it_is_expanded(home: Path, staging: Staging) -> None:
    """A sparse member of a few bytes in the archive unpacks to any size it claims (zeros): a tiny archive could
    fill the disk, or keep a worker hashing for hours. Backups never write sparse members."""
    size = 64 << 20
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, _ in GOOD[:3]:
            info = tarfile.TarInfo(f"{TOP}/{name}")
            info.type = tarfile.DIRTYPE if kind == "dir" else tarfile.REGTYPE
            info.size = 2 if kind == "file" else 0
            tar.addfile(info, io.BytesIO(b"{}") if kind == "file" else None)
        bomb = tarfile.TarInfo(f"{TOP}/homedir/public_html/zeros")
        bomb.pax_headers = {"GNU.sparse.map": "0,0", "GNU.sparse.size": str(size)}
        tar.addfile(bomb)
        zeros = hashlib.sha256()
        for _ in range(size >> 20):
            zeros.update(bytes(1 << 20))
        lines = [{"path": n, "type": k, **_expected(k, c)} for n, k, c in GOOD[:3]]
        lines.append({"path": "homedir/public_html/zeros", "type": "file", "size": size, "sha256": zeros.hexdigest()})
        text = b"".join(manifest_line(line) for line in lines)
        manifest = tarfile.TarInfo(f"{TOP}/manifest.jsonl")
        manifest.size = len(text)
        tar.addfile(manifest, io.BytesIO(text))
    assert len(out.getvalue()) < 1024
    before = snapshot(home)
    with pytest.raises(RestoreRefused, match="a sparse file"):
        run(home, staging, out.getvalue())
    assert snapshot(home) == before and os.listdir(staging.user_dir("alice")) == []
