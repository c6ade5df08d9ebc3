"""Write a large canonical long gradebook (CSV and/or Parquet) for the grading benchmarks.

One row per piece of evidence, the columns `mastery grade` reads from a long export:
student_id, student_name, target, score, date, assessment, type, section, course. Each student
has ``--evidence`` rows for each of ``--targets`` targets of the framework (rows of a student are
together, targets in framework order, dates rising within a target), so there are rows /
(targets × evidence) students. Scores are mostly numbers on the scale, with the mastery level's
label, blanks (no evidence), ``EX`` (excused) and ``M`` (missing) mixed in; ids keep their
leading zeros; names hold commas and accents, so some cells are quoted.

DuckDB writes it: the rows are computed from their index with a seeded hash and streamed to
the file, so memory stays flat at any size (100 M rows: 7.3 GB of CSV in ~100 s, under 140 MB
of memory; see benchmarks/README.md, "Large runs") and the bytes are
the same for the same arguments (and DuckDB version). Beside the data it writes
``NAME.labels.json``: the score labels used and the value each stands for, which the peer
query (``peer_decaying_average.py``) needs to read scores as mastery does.

Example:
    .venv/bin/python benchmarks/gen_gradebook.py --rows 1000000 \\
        --out benchmarks/data/gradebook-1000000.csv --parquet
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_NAMES = ["Ana", "Ben", "Chloé", "Dev", "Emma", "Farid", "Grace", "Hugo", "Iris", "Jun",
               "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq"]
LAST_NAMES = ["Adams", "Baker", "Castro", "Diallo", "Evans", "Fischer", "García", "Huang",
              "Ibrahim", "Jones", "Kim", "López", "Müller", "Nguyen", "O'Brien", "Patel",
              "Quispe", "Rossi", "Smith", "Tanaka"]
TYPES = ["formative", "formative", "formative", "summative", "practice", "diagnostic"]
#: Numbers as teachers type them, and how often (in thousandths).
NUMBERS = [("1", 80), ("2", 250), ("3", 380), ("4", 200), ("2.5", 50), ("3.5", 40)]
TERM_START = "2025-09-02"
TERM_DAYS = 110


def framework_targets(path: Path, count: int) -> list[tuple[str, str, float]]:
    """The first ``count`` targets: id, the label of its scale's mastery level, its value."""
    from mastery_cli.validation import load_framework

    framework, _ = load_framework(path)
    chosen = []
    for target in list(framework.targets.values())[:count]:
        scale = framework.target_scale(target)
        if scale is None:
            continue
        level = scale.mastery_level
        chosen.append((target.id, framework.text(level.label), float(level.value)))
    if not chosen:
        raise SystemExit(f"{path}: the framework has no targets with a scale")
    return chosen


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def gradebook_query(rows: int, targets: list[tuple[str, str, float]], evidence: int,
                    seed: int) -> str:
    """One SELECT whose result is the gradebook, row by row in file order."""
    per_student = len(targets) * evidence
    if -(-rows // per_student) > 9_999_999:  # ids are 7 digits; lpad would cut longer ones
        raise SystemExit(f"{rows:,} rows make more than 9,999,999 students")
    # u(k): a uniform number in [0, 1) for this row and purpose k, from a seeded hash.
    def u(k: int) -> str:
        return f"(hash(i, {seed}, {k}) % 1000000) / 1000000.0"

    def pick(values: list[str], index: str, k: int) -> str:  # one of values, by hash
        position = f"CAST(hash({index}, {seed}, {k}) % {len(values)} AS BIGINT) + 1"
        return f"{_sql_list(values)}[{position}]"

    cumulative, bounds = 0, []
    for text, share in NUMBERS:
        cumulative += share
        bounds.append(f"WHEN {u(1)} < {cumulative / 1000} THEN '{text}'")
    number = "CASE " + " ".join(bounds[:-1]) + f" ELSE '{NUMBERS[-1][0]}' END"
    return f"""
        WITH base AS (
            SELECT range AS i,
                   range // {per_student} AS s,
                   (range % {per_student}) // {evidence} AS t,
                   range % {evidence} AS a
            FROM range({rows})
        )
        SELECT
            lpad(CAST(s + 1 AS VARCHAR), 7, '0') AS student_id,
            {pick(LAST_NAMES, "s", 10)} || ', ' || {pick(FIRST_NAMES, "s", 11)} AS student_name,
            {_sql_list([t for t, _, _ in targets])}[t + 1] AS target,
            CASE
              WHEN {u(2)} < 0.03 THEN NULL  -- a blank cell
              WHEN {u(2)} < 0.04 THEN 'EX'
              WHEN {u(2)} < 0.045 THEN 'M'
              WHEN {u(2)} < 0.055 THEN {_sql_list([label for _, label, _ in targets])}[t + 1]
              ELSE {number}
            END AS score,
            DATE '{TERM_START}'
              + CAST(floor((a + {u(3)}) * {TERM_DAYS} / {evidence}) AS INTEGER) AS date,
            'Task ' || CAST(a + 1 + 10 * t AS VARCHAR) AS assessment,
            {pick(TYPES, "i", 4)} AS type,
            'P' || CAST(1 + s % 6 AS VARCHAR) AS section,
            'ALG1' AS course
        FROM base
    """


def write_gradebook(out: Path, rows: int, targets: list[tuple[str, str, float]],
                    evidence: int, seed: int, *, csv: bool = True, parquet: bool = False,
                    memory_limit: str = "1GB") -> list[Path]:
    import duckdb

    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with duckdb.connect(config={"memory_limit": memory_limit,
                                "preserve_insertion_order": True}) as con:
        query = gradebook_query(rows, targets, evidence, seed)
        if csv:
            # Dates as ISO text and quotes only where a cell needs them, like a spreadsheet's
            # export; an empty score is an empty cell, not "".
            con.execute(f"COPY ({query}) TO '{out}' (FORMAT csv, HEADER, DATEFORMAT '%Y-%m-%d')")
            written.append(out)
        if parquet:
            target = out.with_suffix(".parquet")
            con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
            written.append(target)
    labels = {label: value for _, label, value in targets}
    out.with_suffix(".labels.json").write_text(json.dumps({"labels": labels}, indent=1) + "\n")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    parser.add_argument("--framework", type=Path, default=ROOT / "examples" / "framework")
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--evidence", type=int, default=5, help="evidence rows per target")
    parser.add_argument("--seed", type=int, default=20250902)
    parser.add_argument("--parquet", action="store_true", help="also write NAME.parquet")
    parser.add_argument("--no-csv", action="store_true", help="write only the Parquet file")
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB's, while writing")
    args = parser.parse_args(argv)
    targets = framework_targets(args.framework, args.targets)
    start = time.perf_counter()
    written = write_gradebook(args.out, args.rows, targets, args.evidence, args.seed,
                              csv=not args.no_csv, parquet=args.parquet or args.no_csv,
                              memory_limit=args.memory_limit)
    for path in written:
        print(f"wrote {args.rows:,} rows ({len(targets)} targets) to {path} "
              f"({path.stat().st_size / 1e6:,.0f} MB)", file=sys.stderr)
    print(f"in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
