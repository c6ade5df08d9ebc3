"""Any command and the peer query side by side on one large gradebook, as a Markdown table.

For the large runs of ISSUE 16 (10 M and 100 M rows): the command to measure is given whole,
so it works before (and after) `mastery grade` has a given option. Placeholders in it are
filled for each run: ``{file}`` the gradebook, ``{out}`` a new, empty output folder, ``{tmp}``
a new temporary folder (for spilling), ``{python}`` this interpreter, ``{mastery}`` the
``mastery`` beside it, ``{root}`` the repository. The peer is ``peer_decaying_average.py``
(the hand-written DuckDB query that is the engine goals' yardstick) on the same file.

``--repeat`` rounds; in each, every command runs once, one after the other (interleaved, the
order reversed every other round, so machine load and the page cache treat all alike). Each
run is a fresh process tree; for each, the table gives

- wall time, from start to the exit of the command's first process;
- CPU time (user + system) of the whole tree: the ``wait4`` usage of the first process, which
  holds every descendant it (or they) waited for, or the sum of the last sampled CPU times of
  every process seen in the tree if that is larger (a descendant nobody waited for);
- peak resident memory of the whole tree: every ``--interval`` seconds the resident memory of
  all its processes is summed (pages shared between them count once per process, so this is
  an upper bound), and the largest single process's exact ``ru_maxrss`` is the floor.

Before the first round the gradebook is read once, so no command pays for a cold disk cache.
The output folder of each command's last run is kept under ``--workdir`` when
``--keep-outputs`` is given: the peer's results are then counted against each command's
``target_grades.csv``, and each command's folder is compared byte by byte with the first
command's (e.g. ``--engine duckdb`` against ``--engine spark``). ``--check-outputs DIR1 DIR2``
compares two result folders on its own and lists the files that differ (exit 1 if any).

Examples:
    .venv/bin/python benchmarks/large_bench.py /work/bench-data/gradebook-10000000.csv \\
        --command '{mastery} grade {file} --framework examples/framework --out {out} -q' \\
        --repeat 3
    .venv/bin/python benchmarks/large_bench.py /work/bench-data/gradebook-100000000.csv \\
        --command '{mastery} grade {file} --framework examples/framework --memory-limit 4GB \\
                   --temp-dir {tmp} --out {out} -q' --peer-memory-limit 4GB --repeat 1
    .venv/bin/python benchmarks/large_bench.py --check-outputs runs/duckdb runs/spark
"""

from __future__ import annotations

import argparse
import contextlib
import filecmp
import json
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PEER = ROOT / "benchmarks" / "peer_decaying_average.py"
PEER_NAME = "peer"
MB = 2**20
NEWLINE = b"\n"


@dataclass
class Run:
    """What one run of one command cost."""

    name: str
    round: int
    exit_code: int
    wall_s: float
    cpu_s: float
    tree_peak_mb: float  # sampled sum over the process tree, at least the largest process
    process_peak_mb: float  # ru_maxrss: the largest single process of the tree, exact
    processes: int  # distinct processes seen in the tree
    samples: int


@dataclass
class Command:
    name: str
    template: list[str]


def _mastery() -> str:
    installed = Path(PYTHON).with_name("mastery")
    return str(installed) if installed.exists() else "mastery"


def fill(template: list[str], file: Path, out: Path, tmp: Path) -> list[str]:
    """The command line of one run: each placeholder replaced (others left as written)."""
    values = {"file": str(file), "out": str(out), "tmp": str(tmp), "python": PYTHON,
              "mastery": _mastery(), "root": str(ROOT)}
    return [re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[0]), word) for word in template]


def run_folder(workdir: Path, name: str, round_: int) -> Path:
    """WORKDIR/NAME-ROUND, the name reduced to letters, digits, '.', '_' and '-' (a --name
    such as "duckdb, 4GB" or "../x" stays a plain folder inside WORKDIR)."""
    plain = re.sub(r"[^\w.-]+", "_", name).strip("._") or "command"
    return workdir / f"{plain}-{round_}"


def measure(command: list[str], name: str, round_: int, interval: float,
            timeout: float | None, log: Path) -> Run:
    """Run ``command`` to its end, sampling its process tree; stderr goes to ``log``."""
    import psutil

    start = time.perf_counter()
    with log.open("wb") as errors:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)
    root = psutil.Process(process.pid)  # before the reaper: the pid stays ours until reaped
    # A thread waits for the exit, so the wall time is exact whatever the sampling interval.
    ended = threading.Event()
    reaped: list[tuple[float, int, resource.struct_rusage]] = []

    def reap() -> None:
        _, raw, usage = os.wait4(process.pid, 0)
        reaped.append((time.perf_counter(), raw, usage))
        ended.set()

    threading.Thread(target=reap, daemon=True).start()
    cpu_seen: dict[tuple[int, float], float] = {}  # (pid, start time) -> last user + system
    tree_peak = 0
    samples = 0
    while not ended.is_set():
        total = 0
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        for member in tree:
            try:
                with member.oneshot():
                    total += member.memory_info().rss
                    times = member.cpu_times()
                    cpu_seen[(member.pid, member.create_time())] = times.user + times.system
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        tree_peak = max(tree_peak, total)
        samples += 1
        if timeout is not None and time.perf_counter() - start > timeout:
            _kill_tree(root)
        ended.wait(interval)
    end, raw, usage = reaped[0]
    wall = end - start
    status = os.waitstatus_to_exitcode(raw)
    process.returncode = status  # reaped above: keep Popen from waiting again
    cpu = max(usage.ru_utime + usage.ru_stime, sum(cpu_seen.values()))
    process_peak = usage.ru_maxrss * 1024  # kB on Linux
    return Run(name=name, round=round_, exit_code=status, wall_s=wall, cpu_s=cpu,
               tree_peak_mb=max(tree_peak, process_peak) / MB,
               process_peak_mb=process_peak / MB, processes=len(cpu_seen), samples=samples)


def _kill_tree(root: psutil.Process) -> None:
    """End a run that took too long: its descendants first, then itself."""
    import psutil

    try:
        members = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()


def warm_cache(file: Path) -> float:
    """Read the file once so every command finds it in the page cache; seconds taken."""
    start = time.perf_counter()
    with file.open("rb") as handle:
        while handle.read(16 * MB):
            pass
    return time.perf_counter() - start


def rows_of(file: Path, given: int | None) -> int | None:
    """Rows in the gradebook: as given, or from a generated file's name (gradebook-N.csv)."""
    if given:
        return given
    found = re.search(r"-(\d+)$", file.stem)
    return int(found[1]) if found else None


def bench(file: Path, commands: list[Command], repeat: int, workdir: Path, interval: float,
          timeout: float | None, keep_outputs: bool) -> list[Run]:
    runs: list[Run] = []
    for round_ in range(repeat):
        order = commands if round_ % 2 == 0 else commands[::-1]
        for command in order:
            run_dir = run_folder(workdir, command.name, round_)
            out, tmp = run_dir / "out", run_dir / "tmp"
            tmp.mkdir(parents=True)
            argv = fill(command.template, file, out, tmp)
            run = measure(argv, command.name, round_, interval, timeout, run_dir / "stderr.txt")
            runs.append(run)
            print(f"  {command.name} round {round_ + 1}: {run.wall_s:.2f} s wall, "
                  f"{run.cpu_s:.2f} s CPU, {run.tree_peak_mb:,.0f} MB"
                  + (f", EXIT {run.exit_code}" if run.exit_code else ""),
                  file=sys.stderr, flush=True)
            if run.exit_code:
                tail = (run_dir / "stderr.txt").read_text(errors="replace")[-2000:]
                print(f"  {shlex.join(argv)}\n{tail}", file=sys.stderr)
            # Spilled files go at once; outputs stay only for the last round, if asked for.
            # (Removing them outside the timed part: freeing a large folder takes a while.)
            shutil.rmtree(tmp, ignore_errors=True)
            if not keep_outputs or round_ < repeat - 1:
                shutil.rmtree(out, ignore_errors=True)
    return runs


def _median_min(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} / {min(values):.2f}"


def table(runs: list[Run], commands: list[Command], rows: int | None) -> str:
    """One Markdown line per command: medians and minima over its successful runs."""
    lines = [
        "| command | runs ok | wall (s) | CPU (s) | CPU / wall | ratio to peer, wall / CPU "
        "| rows/s | peak RSS, tree (MB) | peak RSS, one process (MB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ok = {c.name: [r for r in runs if r.name == c.name and r.exit_code == 0] for c in commands}
    peer = ok.get(PEER_NAME)
    for command in commands:
        mine = ok[command.name]
        total = sum(r.name == command.name for r in runs)
        if not mine:
            lines.append(f"| {command.name} | 0 of {total} | failed | | | | | | |")
            continue
        wall = statistics.median(r.wall_s for r in mine)
        cpu = statistics.median(r.cpu_s for r in mine)
        ratio = ("" if not peer or command.name == PEER_NAME else
                 f"**{wall / statistics.median(r.wall_s for r in peer):.2f}** / "
                 f"{cpu / statistics.median(r.cpu_s for r in peer):.2f}")
        speed = f"{rows / wall:,.0f}" if rows else ""
        lines.append(
            f"| {command.name} | {len(mine)} of {total} | {_median_min([r.wall_s for r in mine])} "
            f"| {_median_min([r.cpu_s for r in mine])} | {cpu / wall:.2f} "
            f"| {ratio} | {speed} | {max(r.tree_peak_mb for r in mine):,.0f} "
            f"| {max(r.process_peak_mb for r in mine):,.0f} |")
    return "\n".join(lines)


# -- comparing result folders ------------------------------------------------------------------

def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def first_difference(left: Path, right: Path) -> str:
    """Where two files first differ, as cmp says it: byte and line (both from 1)."""
    offset, line = 0, 1
    with left.open("rb") as a, right.open("rb") as b:
        while True:
            x, y = a.read(MB), b.read(MB)
            if x == y:
                if not x:
                    return "identical"
                offset += len(x)
                line += x.count(NEWLINE)
                continue
            common = min(len(x), len(y))
            at = next((i for i in range(common) if x[i] != y[i]), common)
            where = f"byte {offset + at + 1}, line {line + x.count(NEWLINE, 0, at)}"
            return where if at < common else f"EOF after {where} in the shorter file"


def check_outputs(left: Path, right: Path) -> tuple[bool, str]:
    """(identical?, a Markdown list of the files only in one folder or differing)."""
    for folder in (left, right):
        if not folder.is_dir():
            raise SystemExit(f"{folder}: not a folder")
    a, b = _files(left), _files(right)
    lines = [f"Comparing {left} and {right} byte by byte: {len(a | b)} files."]
    lines += [f"- only in {left}: {name}" for name in sorted(a - b)]
    lines += [f"- only in {right}: {name}" for name in sorted(b - a)]
    same = 0
    for name in sorted(a & b):
        if filecmp.cmp(left / name, right / name, shallow=False):
            same += 1
        else:
            lines.append(f"- differ: {name} ({first_difference(left / name, right / name)})")
    lines.append(f"{same} of {len(a | b)} files identical.")
    return same == len(a | b), "\n".join(lines)


# -- the command line --------------------------------------------------------------------------

def _commands(args: argparse.Namespace, file: Path) -> list[Command]:
    names = args.name or []
    if len(names) > len(args.command):
        raise SystemExit("more --name than --command")
    commands = []
    for number, text in enumerate(args.command):
        name = names[number] if number < len(names) else (
            "mastery" if len(args.command) == 1 else f"command {number + 1}")
        commands.append(Command(name, shlex.split(text)))
    if not args.no_peer:
        labels = args.labels or file.with_suffix(".labels.json")
        peer = [PYTHON, str(PEER), "{file}", "--labels", str(labels), "--out",
                "{out}/peer.csv", "--temp-dir", "{tmp}"]
        if args.peer_memory_limit:
            peer += ["--memory-limit", args.peer_memory_limit]
        if args.peer_threads:
            peer += ["--threads", str(args.peer_threads)]
        commands.insert(0, Command(PEER_NAME, peer))
    if len({run_folder(Path(), c.name, 0) for c in commands}) < len(commands):
        raise SystemExit("two commands have the same --name (or names that differ only in "
                         "punctuation, which their folders leave out)")
    return commands


def _peer_agreement(workdir: Path, commands: list[Command], last: int) -> list[str]:
    """The peer's results against each command's target_grades.csv, as peer --compare does."""
    lines = []
    peer_csv = run_folder(workdir, PEER_NAME, last) / "out" / "peer.csv"
    for command in commands:
        grades = run_folder(workdir, command.name, last) / "out" / "target_grades.csv"
        if command.name == PEER_NAME or not (peer_csv.exists() and grades.exists()):
            continue
        check = subprocess.run(
            [PYTHON, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
             "from peer_decaying_average import compare; print(compare(*sys.argv[2:]))",
             str(PEER.parent), str(peer_csv), str(grades)],
            capture_output=True, text=True, cwd=ROOT)
        verdict = check.stdout.strip() if check.returncode == 0 else "comparison failed"
        lines.append(f"- peer vs {command.name}'s target_grades.csv: {verdict}")
    return lines


def _same_outputs(workdir: Path, commands: list[Command], last: int) -> list[str]:
    """Each command's last output folder against the first command's, byte by byte."""
    folders = {c.name: run_folder(workdir, c.name, last) / "out" for c in commands
               if c.name != PEER_NAME}
    names = [name for name, folder in folders.items() if folder.is_dir()]
    lines = []
    for name in names[1:]:
        identical, report = check_outputs(folders[names[0]], folders[name])
        verdict = "identical bytes" if identical else "DIFFERENT:\n" + report
        lines.append(f"- outputs of {name} against {names[0]}: {verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Examples:", 1)[1] if __doc__ else None)
    parser.add_argument("file", type=Path, nargs="?", help="the gradebook (CSV or Parquet)")
    parser.add_argument("--command", action="append", default=[], metavar="COMMAND",
                        help="a command line to measure, with {file} {out} {tmp} {python} "
                             "{mastery} {root} (repeatable)")
    parser.add_argument("--name", action="append", metavar="NAME",
                        help="the table's name for each --command, in order")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--no-peer", action="store_true", help="measure the commands only")
    parser.add_argument("--labels", type=Path, help="for the peer; default FILE.labels.json")
    parser.add_argument("--peer-memory-limit", help="the peer's DuckDB memory_limit, e.g. 4GB")
    parser.add_argument("--peer-threads", type=int, help="the peer's DuckDB threads")
    parser.add_argument("--rows", type=int, help="rows in FILE (default: from its name)")
    parser.add_argument("--interval", type=float, default=0.05,
                        help="seconds between memory samples (default 0.05)")
    parser.add_argument("--timeout", type=float, help="kill a run after this many seconds")
    parser.add_argument("--workdir", type=Path,
                        help="where runs write (default: a new folder beside FILE, removed "
                             "at the end unless --keep-outputs)")
    parser.add_argument("--keep-outputs", action="store_true",
                        help="keep each command's last output folder (WORKDIR/NAME-ROUND/out)")
    parser.add_argument("--no-warm-cache", action="store_true",
                        help="do not read FILE once before the first round")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every run here")
    parser.add_argument("--check-outputs", nargs=2, type=Path, metavar=("DIR1", "DIR2"),
                        help="only compare two result folders byte by byte")
    args = parser.parse_args(argv)

    if args.check_outputs:
        identical, report = check_outputs(*args.check_outputs)
        print(report)
        return 0 if identical else 1
    if args.file is None or not args.file.is_file():
        parser.error("give a gradebook FILE that exists (or --check-outputs DIR1 DIR2)")
    if not args.command and args.no_peer:
        parser.error("nothing to run: give --command, or leave the peer in")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    file = args.file.resolve()
    commands = _commands(args, file)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="large-bench-", dir=file.parent))
    workdir.mkdir(parents=True, exist_ok=True)
    if any(workdir.iterdir()):
        raise SystemExit(f"{workdir}: not empty (runs would mix with what is there)")
    warm = 0.0 if args.no_warm_cache else warm_cache(file)
    load = os.getloadavg()[0]
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    runs = bench(file, commands, args.repeat, workdir, args.interval, args.timeout,
                 args.keep_outputs)
    rows = rows_of(file, args.rows)
    print(f"### {file.name} ({file.stat().st_size / 1e9:.2f} GB"
          + (f", {rows:,} rows" if rows else "") + ")\n")
    cache = "no warm-up read" if args.no_warm_cache else f"file read once before ({warm:.1f} s)"
    print(f"{started}, {os.cpu_count()} CPUs, load average {load:.1f} at the start and "
          f"{os.getloadavg()[0]:.1f} at the end; {args.repeat} interleaved round(s), "
          f"median / min; {cache}.\n")
    print(table(runs, commands, rows))
    print()
    for command in commands:
        print(f"- {command.name}: `{shlex.join(command.template)}`")
    if args.keep_outputs:
        for line in _peer_agreement(workdir, commands, args.repeat - 1):
            print(line)
        for line in _same_outputs(workdir, commands, args.repeat - 1):
            print(line)
        print(f"\nOutputs of the last round kept in {workdir}")
    elif args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(
            {"file": str(file), "started": started, "cpus": os.cpu_count(),
             "commands": {c.name: c.template for c in commands},
             "runs": [asdict(r) for r in runs]}, indent=1) + "\n")
    return 0 if all(r.exit_code == 0 for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
