"""Benchmarks for `mastery validate` (figures recorded in benchmarks/README.md, section "validate").

    python benchmarks/validate_bench.py [--runs 15]

(a) Start-up on one small framework file: whole-process wall time and CPU time of
    `mastery validate FILE` against `check-jsonschema --schemafile schemas/framework.schema.json
    FILE`, run alternately (hyperfine-like), median and minimum of N runs each. Two files: a
    small complete framework made by gen_framework.py (20 targets), and
    examples/framework/riverside.yaml.
(b) A generated framework of 20,000 targets in 50 files (gen_framework.py), validated end to
    end: wall time and CPU time (user + sys) of the process, median of 3 runs; English-only and
    bilingual.
(c) What the pieces of (a) cost to import, each in a fresh interpreter against one that imports
    nothing: typer (with the pydantic it converts options with), jsonschema and jsonschema-rs.

Wall times include waiting for the CPU; on a busy machine the CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from gen_framework import generate  # noqa: E402


def _run(command: Sequence[str | Path]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([str(c) for c in command], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def _compare(commands: dict[str, list[str | Path]],
             runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """(wall times, CPU times) of each command, run alternately."""
    for command in commands.values():  # warm the file cache and .pyc files
        _run(command)
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            wall, cpu, _ = _run(command)
            times[name][0].append(wall)
            times[name][1].append(cpu)
    return times


def startup(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        small = generate(Path(tmp), targets=20, files=1)[0]
        for label, file in (("generated, 20 targets", small),
                            ("examples/framework/riverside.yaml",
                             ROOT / "examples" / "framework" / "riverside.yaml")):
            schema = ROOT / "schemas" / "framework.schema.json"
            commands: dict[str, list[str | Path]] = {
                "mastery validate": [BIN / "mastery", "validate", file],
                "check-jsonschema": [BIN / "check-jsonschema", "--schemafile", schema, file],
            }
            times = _compare(commands, runs)
            reference = statistics.median(times["check-jsonschema"][0])
            reference_cpu = statistics.median(times["check-jsonschema"][1])
            print(f"\n(a) one small file: {label} ({file.stat().st_size:,} bytes), "
                  f"{runs} runs each")
            print("| command | wall median / min | CPU median / min | ratio to check-jsonschema "
                  "(wall / CPU medians) |")
            print("|---|---|---|---|")
            for name, (walls, cpus) in times.items():
                print(f"| {name} | {statistics.median(walls) * 1000:.0f} / "
                      f"{min(walls) * 1000:.0f} ms | {statistics.median(cpus) * 1000:.0f} / "
                      f"{min(cpus) * 1000:.0f} ms | {statistics.median(walls) / reference:.2f} / "
                      f"{statistics.median(cpus) / reference_cpu:.2f} |")


def large(repeats: int = 3) -> None:
    print("\n(b) 20,000 targets in 50 files, whole process")
    print("| framework | YAML size | wall (median) | CPU (median) | exit |")
    print("|---|---|---|---|---|")
    for bilingual in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            paths = generate(Path(tmp), targets=20_000, files=50, bilingual=bilingual)
            size = sum(p.stat().st_size for p in paths)
            label = "English and Spanish" if bilingual else "English"
            results = [_run([BIN / "mastery", "validate", tmp]) for _ in range(repeats)]
            wall = statistics.median(r[0] for r in results)
            cpu = statistics.median(r[1] for r in results)
            print(f"| {label} | {size / 1e6:.1f} MB | {wall:.2f} s | {cpu:.2f} s "
                  f"| {results[0][2]} |")


def imports(runs: int) -> None:
    """Import cost of the libraries `mastery validate` loads, CPU time over a bare interpreter."""
    print(f"\n(c) import cost, CPU time over `python -c pass`, {runs} runs each")
    print("| module | median | min |")
    print("|---|---|---|")
    statements = {"(nothing)": "pass", "typer": "import typer._adapters",
                  "jsonschema": "import jsonschema", "jsonschema_rs": "import jsonschema_rs"}
    commands: dict[str, list[str | Path]] = {
        name: [sys.executable, "-c", statement] for name, statement in statements.items()}
    times = _compare(commands, runs)
    bare = statistics.median(times["(nothing)"][1])
    for name, (_, cpus) in list(times.items())[1:]:
        print(f"| {name} | {(statistics.median(cpus) - bare) * 1000:.0f} ms | "
              f"{(min(cpus) - min(times['(nothing)'][1])) * 1000:.0f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {load:.1f} at start")
    startup(args.runs)
    imports(args.runs)
    large()


if __name__ == "__main__":
    main()
