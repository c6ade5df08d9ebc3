"""Write a large, realistic long-format gradebook CSV for benchmarking `mastery grade`.

One row per piece of evidence: each student has ``--evidence`` rows for each of ``--targets``
targets of the framework, so the number of students is rows / (targets × evidence). Scores are
mostly numbers on the scale, with level labels, blanks (no evidence), ``EX`` (excused) and ``M``
(missing) mixed in; dates spread over a term; ids keep their leading zeros. The output is the
same bytes for the same arguments (seeded).

With ``--bench N`` it then times, N times each and interleaved, a bare pyarrow parse of the
file (every column as a string: the floor) and `read_evidence` on it, and reports the best and
median times and the peak memory of one ingestion in a fresh process.

Example:
    .venv/bin/python benchmarks/gen_gradebook.py --rows 1000000 \\
        --framework examples/framework --out /tmp/gradebook-1m.csv --bench 5
"""

from __future__ import annotations

import argparse
import csv
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

FIRST_NAMES = [
    "Ana",
    "Ben",
    "Chloé",
    "Dev",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Iris",
    "Jun",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
]
LAST_NAMES = [
    "Adams",
    "Baker",
    "Castro",
    "Diallo",
    "Evans",
    "Fischer",
    "García",
    "Huang",
    "Ibrahim",
    "Jones",
    "Kim",
    "López",
    "Müller",
    "Nguyen",
    "O'Brien",
    "Patel",
    "Quispe",
    "Rossi",
    "Smith",
    "Tanaka",
]
TYPES = np.array(["formative", "formative", "formative", "summative", "practice", "diagnostic"])
TERM_DAYS = 110


def framework_targets(path: Path, count: int) -> list[tuple[str, str]]:
    """The first ``count`` targets, each with the label of its scale's mastery level."""
    # Imported here so `--help` works without the package installed.
    from mastery_cli.validation import load_framework

    framework, _ = load_framework(path)
    targets = list(framework.targets.values())[:count]
    if not targets:
        raise SystemExit(f"{path}: the framework has no targets")
    chosen = []
    for target in targets:
        scale = framework.target_scale(target)
        label = framework.text(scale.mastery_level.label) if scale else "3"
        chosen.append((target.id, label))
    return chosen


def score_texts(rng: np.random.Generator, n: int, labels: np.ndarray) -> np.ndarray:
    """Scores as a teacher's export writes them: numbers, some labels, blanks, EX and M."""
    numbers = rng.choice(
        np.array(["1", "2", "3", "4", "2.5", "3.5"]), size=n, p=[0.08, 0.25, 0.38, 0.2, 0.05, 0.04]
    )
    kind = rng.random(n)
    out = numbers.astype(object)
    out[kind < 0.03] = ""
    out[(kind >= 0.03) & (kind < 0.04)] = "EX"
    out[(kind >= 0.04) & (kind < 0.045)] = "M"
    labelled = (kind >= 0.045) & (kind < 0.055)
    out[labelled] = labels[labelled]
    return out


def build_columns(
    rows: int, targets: list[tuple[str, str]], evidence: int, seed: int
) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    per_student = len(targets) * evidence
    students = max(1, -(-rows // per_student))
    index = np.arange(rows)
    student = index // per_student
    target_index = (index % per_student) // evidence
    attempt = index % evidence

    ids = np.char.zfill(np.arange(1, students + 1).astype(str), 7)
    first = rng.integers(0, len(FIRST_NAMES), students)
    last = rng.integers(0, len(LAST_NAMES), students)
    names = np.array(
        [f"{LAST_NAMES[b]}, {FIRST_NAMES[a]}" for a, b in zip(first, last, strict=True)]
    )
    sections = np.array([f"P{1 + s % 6}" for s in range(students)])

    day = np.sort(rng.integers(0, TERM_DAYS, size=(rows // evidence + 1, evidence)), axis=1)
    day = day.reshape(-1)[:rows]
    dates = (np.datetime64("2025-09-02") + day.astype("timedelta64[D]")).astype(str)
    assessments = np.char.add("Task ", (attempt + 1 + 10 * target_index).astype(str))
    target_names = np.array([target_id for target_id, _ in targets])
    mastery_labels = np.array([label for _, label in targets], dtype=object)

    columns = {
        "student_id": ids[student],
        "student_name": names[student],
        "target": target_names[target_index],
        "score": score_texts(rng, rows, mastery_labels[target_index]),
        "date": dates,
        "assessment": assessments,
        "type": TYPES[rng.integers(0, len(TYPES), rows)],
        "section": sections[student],
        "course": np.full(rows, "ALG1"),
    }
    return {name: values.tolist() for name, values in columns.items()}


def peak_rss_mib() -> float:
    """Peak resident memory of this process. /proc's VmHWM, because ru_maxrss carries the
    parent's peak over fork + exec on Linux."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_only(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8-sig").rstrip("\r\n").split(",")
    pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string())),
    )


def ingest(path: Path, framework_path: Path) -> int:
    from mastery_cli.grading.ingest import IngestConfig, read_evidence
    from mastery_cli.validation import load_framework

    framework, _ = load_framework(framework_path)
    return read_evidence([path], framework, IngestConfig()).rows_read


def bench(path: Path, framework_path: Path, repeats: int) -> None:
    from mastery_cli.validation import load_framework

    load_framework(framework_path)  # warm imports
    floor: list[float] = []
    full: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        parse_only(path)
        floor.append(time.perf_counter() - start)
        start = time.perf_counter()
        ingest(path, framework_path)
        full.append(time.perf_counter() - start)
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--rss-of",
            str(path),
            "--framework",
            str(framework_path),
            "--out",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    print(f"pyarrow parse only: best {min(floor):.3f} s, median {statistics.median(floor):.3f} s")
    print(
        f"read_evidence:      best {min(full):.3f} s, median {statistics.median(full):.3f} s "
        f"({min(full) / min(floor):.1f}x the parse)"
    )
    print(f"peak RSS of one ingestion (fresh process): {child.stdout.strip()} MiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--framework", type=Path, default=Path("examples/framework"))
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--evidence", type=int, default=5, help="evidence rows per target")
    parser.add_argument("--seed", type=int, default=20250902)
    parser.add_argument("--bench", type=int, default=0, metavar="N", help="time N runs")
    parser.add_argument("--rss-of", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_of:
        ingest(args.rss_of, args.framework)
        print(f"{peak_rss_mib():.0f}")
        return 0
    targets = framework_targets(args.framework, args.targets)
    columns = build_columns(args.rows, targets, args.evidence, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # The csv module quotes only where needed, like a spreadsheet's export (pyarrow's
    # writer quotes every string).
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(list(columns))
        writer.writerows(zip(*columns.values(), strict=True))
    print(f"wrote {args.rows} rows ({len(targets)} targets) to {args.out}", file=sys.stderr)
    if args.bench:
        bench(args.out, args.framework, args.bench)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
