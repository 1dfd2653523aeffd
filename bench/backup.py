"""Backup throughput and peak memory, beside `tar czf` of the same home, in one run.

Generates a home of `--size-mb` of mixed files (by bytes: 10 % small files of a few KiB, 30 % files of a few MiB,
60 % large ones of up to 256 MiB; half of them random bytes, half text), then runs, alternately and `--runs` times
each:
- hostpanel: `hostpanel backup create USER` (the CLI's foreground run of the API's job code: scan, metadata,
  streamed tar.gz with the SHA-256 manifest, rename into the home);
- baseline: `tar czf ARCHIVE -C HOME .` (GNU tar piping to gzip -6, the same compression level).
Each runs as a child of a small wrapper that reports the peak resident memory of its descendants (getrusage), so
the figures are the whole process's, interpreter included. Prints the medians (wall time, MB/s of home data, peak
RSS, archive size) and their ratios to tar, as a table and as JSON.

    .venv/bin/python -m bench.backup [--size-mb 64] [--runs 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1024 * 1024
USER = "bench"
PASSWORD = "Correct-Horse-Battery-9"
# Runs a command and prints the peak RSS (KiB) of it and everything it waited for, and the wall time.
WRAPPER = (
    "import resource, subprocess, sys, time, json; t = time.perf_counter(); "
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE); "
    "print(json.dumps({'seconds': time.perf_counter() - t, 'rss_kib': "
    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, 'code': r.returncode, 'err': r.stderr.decode()[-500:]}))"
)


def _text_block(rng: random.Random) -> bytes:
    words = [rng.randbytes(rng.randint(2, 9)).hex()[: rng.randint(2, 12)] for _ in range(5000)]
    return " ".join(rng.choice(words) for _ in range(200_000)).encode()[:MIB]


def generate(home: Path, size_mb: int, seed: int = 7) -> tuple[int, int]:
    """Write the mixed files; returns (files, bytes)."""
    rng = random.Random(seed)
    text = _text_block(rng)
    budget = size_mb * MIB
    shares = [(0.10, 4 * 1024, 64 * 1024), (0.30, 1 * MIB, 8 * MIB), (0.60, 32 * MIB, 256 * MIB)]
    files = written = 0
    for share, low, high in shares:
        target = int(budget * share)
        done = 0
        while done < target:
            size = min(rng.randint(low, high), target - done)
            folder = home / "public_html" / f"d{files % 97}" / f"e{files % 13}"
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / f"f{files}.{'bin' if files % 2 else 'txt'}").open("wb") as out:
                left = size
                while left:
                    chunk = min(left, MIB)
                    out.write(os.urandom(chunk) if files % 2 else text[:chunk])
                    left -= chunk
            files, done = files + 1, done + size
        written += done
    return files, written


def _wrapped(command: list[str], env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout)
    if result["code"]:
        raise SystemExit(f"{command[0]} failed: {result['err']}")
    return result


def run(size_mb: int, runs: int, keep: Path | None) -> dict[str, object]:
    root = Path(keep or tempfile.mkdtemp(prefix="hostpanel-bench-backup-"))
    env = {**os.environ, "HOSTPANEL_HOME": str(root / "var")}
    hostpanel = str(Path(sys.executable).with_name("hostpanel"))
    subprocess.run([hostpanel, "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [hostpanel, "account", "create", USER, "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    home = root / "var" / "homes" / USER
    started = time.perf_counter()
    files, size = generate(home, size_mb)
    print(f"generated {files} files, {size / MIB:.0f} MiB in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    floor = _wrapped([hostpanel, "account", "list"], env)  # the CLI's own interpreter and imports
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for n in range(runs):
        baseline = root / "tar.tar.gz"
        theirs.append({**_wrapped(["tar", "czf", str(baseline), "-C", str(home), "."], env), "size": 0})
        theirs[-1]["size"] = baseline.stat().st_size
        baseline.unlink()
        ours.append(_wrapped([hostpanel, "backup", "create", USER], env))
        [archive] = home.glob("backup-*.tar.gz")
        ours[-1]["size"] = archive.stat().st_size
        archive.unlink()
        print(
            f"run {n + 1}/{runs}: tar {theirs[-1]['seconds']:.1f} s, hostpanel {ours[-1]['seconds']:.1f} s",
            file=sys.stderr,
        )
        time.sleep(1.1)  # archive names have one-second resolution
    if keep is None:
        shutil.rmtree(root)

    def median(results: list[dict[str, float]], key: str) -> float:
        return statistics.median(result[key] for result in results)

    report: dict[str, object] = {"home_mib": round(size / MIB), "files": files, "runs": runs}
    for label, results in (("hostpanel", ours), ("tar_czf", theirs)):
        seconds = median(results, "seconds")
        report[label] = {
            "seconds": round(seconds, 2),
            "mib_per_s": round(size / MIB / seconds, 1),
            "peak_rss_mib": round(median(results, "rss_kib") / 1024, 1),
            "archive_mib": round(median(results, "size") / MIB, 1),
        }
    report["cli_floor_rss_mib"] = round(floor["rss_kib"] / 1024, 1)
    report["time_ratio_to_tar"] = round(median(ours, "seconds") / median(theirs, "seconds"), 2)
    report["size_ratio_to_tar"] = round(median(ours, "size") / median(theirs, "size"), 3)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=int, default=64, help="Size of the generated home (default 64).")
    parser.add_argument("--runs", type=int, default=1, help="Runs of each tool; medians are reported (default 1).")
    parser.add_argument("--keep", type=Path, help="Generate into this folder and keep it.")
    args = parser.parse_args()
    report = run(args.size_mb, args.runs, args.keep)
    print(f"home: {report['home_mib']} MiB in {report['files']} files; medians of {report['runs']} run(s)")
    print(f"{'':10} {'seconds':>8} {'MiB/s':>7} {'peak RSS MiB':>13} {'archive MiB':>12}")
    for label in ("hostpanel", "tar_czf"):
        row = report[label]
        assert isinstance(row, dict)
        print(
            f"{label:10} {row['seconds']:>8} {row['mib_per_s']:>7} {row['peak_rss_mib']:>13} {row['archive_mib']:>12}"
        )
    print(
        f"hostpanel/tar time: {report['time_ratio_to_tar']}x; archive size: {report['size_ratio_to_tar']}x; "
        f"CLI floor (account list): {report['cli_floor_rss_mib']} MiB RSS"
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
