"""CPU spent by ``selfinstruct --help`` (and a command's ``--help``): an older revision vs this tree.

The older revision's files are taken with ``git archive`` into a temporary folder, so both run from the
same interpreter and virtualenv in the same run; each run is a fresh process (``python -c "from app.cli
import main; main()" ARGS``) and its user+sys CPU is read from the child's resource usage.

    python benchmarks/cli_startup.py [--old main] [--runs 10] [--args "--help"]
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "from app.cli import main; main()"


def cpu_seconds(tree: Path, args: list[str]) -> tuple[float, float]:
    """(user+sys CPU, wall) of one ``selfinstruct ARGS`` run from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = os.times().elapsed
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, *args], cwd=tree, env=env, capture_output=True, check=False
    )
    wall = os.times().elapsed - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def export_revision(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision], capture_output=True, check=True
    ).stdout
    tar_path = into / "old.tar"
    tar_path.write_bytes(archive)
    tree = into / "old"
    with tarfile.open(tar_path) as tar:
        tar.extractall(tree, filter="data")
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--old", default="main", help="git revision to compare with")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--args", default="--help", help="the command line after selfinstruct")
    options = parser.parse_args()
    args = shlex.split(options.args)
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = export_revision(options.old, Path(tmp))
        trees = {f"old ({options.old})": old_tree, "new (this tree)": ROOT}
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        for _ in range(options.runs):  # interleaved, so both see the same machine load
            for name, tree in trees.items():
                results[name].append(cpu_seconds(tree, args))
    print(f"selfinstruct {options.args}: {options.runs} runs each, median per run")
    print(f"{'path':<24}{'CPU s (user+sys)':>18}{'wall s':>10}")
    medians = {}
    for name, runs in results.items():
        cpu = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        medians[name] = cpu
        print(f"{name:<24}{cpu:>18.3f}{wall:>10.3f}")
    old, new = medians.values()
    print(f"CPU ratio old/new: {old / new:.2f}x")


if __name__ == "__main__":
    main()
