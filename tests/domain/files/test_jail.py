"""The confinement point under attack: planted links, swapped links during a call, devices, FIFOs, staging crashes.

Each test puts something the account must not reach outside the home and shows that no call reads or writes it.
"""

from __future__ import annotations

import contextlib
import os
import resource
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hostpanel.domain.errors import HostpanelError, InvalidInput, NotFound, RestrictionDenied
from hostpanel.domain.files.jail import Jail
from hostpanel.domain.files.paths import HomePath
from hostpanel.domain.files.staging import Staging, remove_path
from hostpanel.domain.tokens.restrictions import FilemanPaths

SECRET = "outside the home: must never be read\n"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "homes" / "alice"
    (path / "public_html").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text(SECRET)
    return path


@pytest.fixture
def jail(home: Path) -> Jail:
    return Jail(home, "alice")


@pytest.fixture
def staging(tmp_path: Path) -> Staging:
    return Staging(tmp_path / "homes" / ".staging")


def read(jail: Jail, text: str) -> bytes:
    fd = jail.open_read(jail.path(text, "path"))
    try:
        return os.read(fd, 1 << 16)
    finally:
        os.close(fd)


def write(jail: Jail, staging: Staging, text: str, data: bytes, replace: bool = True) -> None:
    staged = staging.create_file("alice", "test")
    try:
        staged.write(data)
        jail.place(staged, jail.path(text, "path"), replace=replace)
    finally:
        staged.discard()


def test_ordinary_reads_and_writes_work(jail: Jail, staging: Staging, home: Path) -> None:
    write(jail, staging, "public_html/index.html", b"<h1>hi</h1>")
    assert read(jail, "public_html/index.html") == b"<h1>hi</h1>"
    assert (home / "public_html" / "index.html").read_bytes() == b"<h1>hi</h1>"
    assert stat.S_IMODE((home / "public_html" / "index.html").stat().st_mode) == 0o644
    assert os.listdir(staging.user_dir("alice")) == []


THROUGH_A_DIRECTORY_LINK: dict[str, Callable[[Jail, Staging], object]] = {
    "read": lambda jail, _: read(jail, "public_html/etc-link/secret"),
    "list": lambda jail, _: jail.entries(jail.path("public_html/etc-link", "dir")),
    "write": lambda jail, staging: write(jail, staging, "public_html/etc-link/planted", b"x"),
    "mkdir": lambda jail, _: jail.mkdir(jail.path("public_html/etc-link/new", "dir"), 0o755),
    "remove": lambda jail, _: jail.remove(jail.path("public_html/etc-link/secret", "path")),
    "rename": lambda jail, _: jail.rename(
        jail.path("public_html/etc-link/secret", "path"), jail.path("stolen", "path")
    ),
}


@pytest.mark.parametrize("attempt", THROUGH_A_DIRECTORY_LINK.values(), ids=THROUGH_A_DIRECTORY_LINK)
def test_a_planted_directory_link_is_never_followed(
    jail: Jail, staging: Staging, home: Path, tmp_path: Path, attempt: Callable[[Jail, Staging], object]
) -> None:
    (home / "public_html" / "etc-link").symlink_to(tmp_path / "outside")
    with pytest.raises(InvalidInput, match="symbolic link"):
        attempt(jail, staging)
    assert sorted(os.listdir(tmp_path / "outside")) == ["secret"]
    assert (tmp_path / "outside" / "secret").read_text() == SECRET


def test_a_planted_file_link_is_neither_read_nor_written_through(
    jail: Jail, staging: Staging, home: Path, tmp_path: Path
) -> None:
    (home / "public_html" / "passwd").symlink_to(tmp_path / "outside" / "secret")
    with pytest.raises(InvalidInput, match="symbolic link, not a regular file"):
        read(jail, "public_html/passwd")
    with pytest.raises(InvalidInput, match="symbolic link; it cannot be overwritten"):
        write(jail, staging, "public_html/passwd", b"overwritten")
    jail.remove(jail.path("public_html/passwd", "path"))  # deleting removes the link, not its target
    assert (tmp_path / "outside" / "secret").read_text() == SECRET
    assert not (home / "public_html" / "passwd").is_symlink()


def test_links_inside_the_home_are_not_followed_either(jail: Jail, home: Path) -> None:
    (home / "mail").mkdir()
    (home / "mail" / "inbox").write_text("mail")
    (home / "public_html" / "mail").symlink_to(home / "mail")
    with pytest.raises(InvalidInput, match="symbolic link"):
        read(jail, "public_html/mail/inbox")


OUTSIDE_THE_TOKEN_PATHS: dict[str, Callable[[Jail], object]] = {
    "a path elsewhere": lambda restricted: restricted.path("etc/shadow", "path"),
    "a parent": lambda restricted: restricted.path("public_html", "dir"),
    "a name that only starts alike": lambda restricted: restricted.path("public_html/application", "dir"),
    "lstat": lambda restricted: restricted.lstat(HomePath(("etc",))),
    "rename out": lambda restricted: restricted.rename(
        HomePath(("public_html", "app", "deploy.txt")), HomePath(("etc", "x"))
    ),
}


@pytest.mark.parametrize("attempt", OUTSIDE_THE_TOKEN_PATHS.values(), ids=OUTSIDE_THE_TOKEN_PATHS)
def test_a_path_restriction_is_checked_on_every_operation(
    home: Path, staging: Staging, attempt: Callable[[Jail], object]
) -> None:
    (home / "public_html" / "app").mkdir()
    (home / "etc").mkdir()
    restricted = Jail(home, "alice", FilemanPaths.parse(["public_html/app"]))
    write(restricted, staging, "public_html/app/deploy.txt", b"ok")
    with pytest.raises(RestrictionDenied, match="restriction “fileman_paths”") as denied:
        attempt(restricted)
    assert denied.value.restriction == "fileman_paths"
    assert (home / "public_html" / "app" / "deploy.txt").read_bytes() == b"ok"


def test_devices_fifos_and_sockets_are_refused_without_being_opened(jail: Jail, home: Path) -> None:
    os.mkfifo(home / "public_html" / "pipe")  # opening a FIFO for reading would block forever
    with pytest.raises(InvalidInput, match="named pipe, not a regular file"):
        read(jail, "public_html/pipe")
    if os.geteuid() == 0:  # only root can make device nodes, so only a root-run panel can meet one
        os.mknod(home / "public_html" / "zero", stat.S_IFCHR | 0o600, os.makedev(1, 5))
        with pytest.raises(InvalidInput, match="character device"):
            read(jail, "public_html/zero")
    with pytest.raises(InvalidInput, match="directory, not a regular file"):
        read(jail, "public_html")


def race(flip: threading.Event, entry: Path, real: Path, target: Path) -> None:
    """Swap `entry` between a real directory and a link to `target` until told to stop, yielding in each state."""
    while not flip.is_set():
        with contextlib.suppress(OSError):
            os.rename(real, entry)
        time.sleep(0)
        with contextlib.suppress(OSError):
            os.rename(entry, real)
            os.symlink(target, entry)
        time.sleep(0)
        with contextlib.suppress(OSError):
            os.unlink(entry)


def until_both(outcomes: dict[str, int], attempt: Callable[[], str], limit: float = 10.0) -> None:
    """Repeat `attempt` until each outcome was seen often, so the race really ran both ways."""
    deadline = time.monotonic() + limit
    while min(outcomes.values()) < 50 and time.monotonic() < deadline:
        outcomes[attempt()] += 1


def test_a_link_swapped_in_during_a_read_is_never_followed(jail: Jail, home: Path, tmp_path: Path) -> None:
    real = home / "public_html" / ".real"
    real.mkdir()
    (real / "secret").write_text("inside")
    stop = threading.Event()
    swapper = threading.Thread(target=race, args=(stop, home / "public_html" / "dir", real, tmp_path / "outside"))
    swapper.start()
    outcomes = {"inside": 0, "refused": 0}

    def attempt() -> str:
        try:
            content = read(jail, "public_html/dir/secret")
        except HostpanelError:
            return "refused"
        assert content == b"inside", content  # never the file outside the home
        return "inside"

    try:
        until_both(outcomes, attempt)
    finally:
        stop.set()
        swapper.join()
    assert min(outcomes.values()) >= 50, outcomes


def test_a_link_swapped_in_during_a_write_is_never_written_through(
    jail: Jail, staging: Staging, home: Path, tmp_path: Path
) -> None:
    real = home / "public_html" / ".real"
    real.mkdir()
    stop = threading.Event()
    swapper = threading.Thread(target=race, args=(stop, home / "public_html" / "dir", real, tmp_path / "outside"))
    swapper.start()
    outcomes = {"written": 0, "refused": 0}
    names = iter(range(1_000_000))

    def attempt() -> str:
        try:
            write(jail, staging, f"public_html/dir/f{next(names)}", b"x")
        except HostpanelError:
            return "refused"
        return "written"

    try:
        until_both(outcomes, attempt)
    finally:
        stop.set()
        swapper.join()
    assert sorted(os.listdir(tmp_path / "outside")) == ["secret"]
    assert min(outcomes.values()) >= 50, outcomes


def test_writes_replace_only_when_asked_and_never_leave_partials(jail: Jail, staging: Staging, home: Path) -> None:
    write(jail, staging, "public_html/a.txt", b"first")
    with pytest.raises(InvalidInput, match="already exists"):
        write(jail, staging, "public_html/a.txt", b"second", replace=False)
    assert (home / "public_html" / "a.txt").read_bytes() == b"first"
    with pytest.raises(NotFound):
        write(jail, staging, "missing/a.txt", b"x")
    assert os.listdir(staging.user_dir("alice")) == []


def test_the_sweep_removes_exactly_what_dead_processes_left(staging: Staging) -> None:
    live = staging.create_file("alice", "upload")
    live.write(b"in progress")
    # A process that stages a file and dies without cleaning up, as a crash would.
    code = (
        "import os, sys; from pathlib import Path; from hostpanel.domain.files.staging import Staging; "
        "f = Staging(Path(sys.argv[1])).create_file('alice', 'upload'); f.write(b'partial'); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code, str(staging.root)], check=True)
    assert len(os.listdir(staging.user_dir("alice"))) == 2
    assert staging.sweep() == 1
    assert os.listdir(staging.user_dir("alice")) == [live.name]
    assert staging.is_in_use("alice", live.name)
    live.discard()
    assert os.listdir(staging.user_dir("alice")) == []


def _deep_folders(parent: Path, depth: int) -> None:
    """`a/a/a/...` below `parent`, made one level at a time from descriptors (no path is longer than a name)."""
    fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("a", dir_fd=fd)
            child = os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        os.close(os.open("f", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd))
        os.symlink("/etc", "l", dir_fd=fd)
    finally:
        os.close(fd)


DEEP = 3000  # beyond Python's recursion limit and a usual descriptor limit of 1024


def _run_in_thread(work: Callable[[], object]) -> None:
    """As a request runs: in a worker thread (whose stack is smaller than the main thread's)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def test_a_folder_of_any_depth_is_removed_in_bounded_descriptors(
    jail: Jail, home: Path, staging: Staging, tmp_path: Path
) -> None:
    """A tree thousands of folders deep (an account makes one with Fileman::mkdir, a crafted archive in a restore's
    staging) could not be removed: shutil.rmtree recursed once per level (RecursionError) and held one descriptor per
    level, so the delete, emptying the trash, discarding a restore and the sweep at start-up all failed for ever."""
    _deep_folders(home / "public_html", DEEP)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 200, hard))
    try:
        _run_in_thread(lambda: jail.remove(jail.path("public_html/a", "path")))
        assert os.listdir(home / "public_html") == []
        restore = staging.create_dir("alice", "restore")
        _deep_folders(staging.user_dir("alice") / restore.name, DEEP)
        _run_in_thread(restore.discard)
        orphan = staging.user_dir("alice") / "upload-orphan"
        orphan.mkdir()
        _deep_folders(orphan, DEEP)
        _run_in_thread(staging.sweep)
        assert os.listdir(staging.user_dir("alice")) == []
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        for leftover in (home / "public_html" / "a", *staging.user_dir("alice").iterdir()):
            with contextlib.suppress(FileNotFoundError):
                remove_path(leftover)  # else pytest's own clean-up of old temporary folders meets them
    assert (tmp_path / "outside" / "secret").read_text() == SECRET
