"""THE PEER: a hand-written DuckDB query for the decaying average per student × target.

The yardstick the engine goals are measured against (ISSUE 16: `mastery grade` within 1.5 × this
query's whole-process time): what a data engineer would write by hand for the one method, with
none of mastery's checks, rejects, other methods or roll-ups. It reads a long gradebook from
``gen_gradebook.py`` (CSV or Parquet), reads scores as mastery does for that file (numbers on
the 1–4 scale, the mastery labels of NAME.labels.json; blanks, EX and M are no evidence), orders
each student's evidence by date (ties broken by assessment: the generator makes none), and
computes the closed form of d1 = s1, dk = w·sk + (1−w)·d(k−1) with window functions:

    d_n = s1 (1−w)^(n−1) + Σ_{k≥2} s_k · w · (1−w)^(n−k)

rounded to 2 places, written as CSV sorted by student and target. (DuckDB adds in its own
order, so a few results may differ from mastery's exact arithmetic by 0.01: that is why mastery
keeps its own kernels; ``--compare`` counts them.)

Example:
    .venv/bin/python benchmarks/peer_decaying_average.py benchmarks/data/gradebook-1000000.csv \\
        --out /tmp/peer.csv --memory-limit 4GB --temp-dir /tmp/peer-spill
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SCALE_MIN, SCALE_MAX = 1.0, 4.0
CSV_COLUMNS = {
    "student_id": "VARCHAR", "student_name": "VARCHAR", "target": "VARCHAR", "score": "VARCHAR",
    "date": "DATE", "assessment": "VARCHAR", "type": "VARCHAR", "section": "VARCHAR",
    "course": "VARCHAR",
}


def source(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    if path.suffix == ".parquet":
        return f"read_parquet('{quoted}')"
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in CSV_COLUMNS.items())
    return f"read_csv('{quoted}', header = true, columns = {{{columns}}})"


def peer_query(path: Path, weight: float) -> str:
    rest = 1.0 - weight
    return f"""
        WITH scored AS (
            SELECT e.student_id, e.target, e.date, e.assessment,
                   coalesce(TRY_CAST(e.score AS DOUBLE), l.value) AS s
            FROM {source(path)} AS e LEFT JOIN labels AS l ON e.score = l.label
        ),
        ranked AS (
            SELECT student_id, target, s,
                   row_number() OVER w - 1 AS back,  -- 0 for the latest score
                   count(*) OVER (PARTITION BY student_id, target) AS n
            FROM scored
            WHERE s BETWEEN {SCALE_MIN} AND {SCALE_MAX}
            WINDOW w AS (PARTITION BY student_id, target
                         ORDER BY date DESC NULLS FIRST, assessment DESC)
        )
        SELECT student_id, target,
               round(sum(s * CASE WHEN back = n - 1 THEN pow({rest}, n - 1)
                                  ELSE {weight} * pow({rest}, back) END), 2) AS score,
               count(*) AS evidence_count
        FROM ranked
        GROUP BY student_id, target
        ORDER BY student_id, target
    """


def run(path: Path, labels_file: Path, out: Path, weight: float, memory_limit: str | None,
        threads: int | None, temp_dir: Path | None = None) -> None:
    import duckdb

    config: dict[str, str | int] = {}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    if temp_dir:  # where DuckDB spills past the memory limit (default: .tmp in the cwd)
        config["temp_directory"] = str(temp_dir)
    labels = json.loads(labels_file.read_text(encoding="utf-8"))["labels"]
    out.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(config=config) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute("CREATE TABLE labels (label VARCHAR, value DOUBLE)")
        con.executemany("INSERT INTO labels VALUES (?, ?)", list(labels.items()))
        quoted = str(out).replace("'", "''")
        con.execute(f"COPY ({peer_query(path, weight)}) TO '{quoted}' (FORMAT csv, HEADER)")


def compare(peer_csv: Path, target_grades_csv: Path) -> str:
    """How many of mastery's target results the peer matches (same student, target, score)."""
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        row = con.execute(f"""
            SELECT count(*),
                   count(*) FILTER (WHERE abs(p.score - m.score) < 1e-9),
                   count(*) FILTER (WHERE abs(p.score - m.score) >= 1e-9),
                   count(*) FILTER (WHERE p.score IS NULL)
            FROM (SELECT student_id, target, TRY_CAST(score AS DOUBLE) AS score
                  FROM read_csv('{target_grades_csv}', all_varchar = true)) AS m
            LEFT JOIN read_csv('{peer_csv}', types = {{'student_id': 'VARCHAR'}}) AS p
              ON p.student_id = m.student_id AND p.target = m.target
            WHERE m.score IS NOT NULL
        """).fetchone()
    assert row is not None
    total, same, differ, missing = row
    return f"{same:,} of {total:,} equal, {differ:,} differ, {missing:,} missing"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gradebook", type=Path, help="CSV or .parquet from gen_gradebook.py")
    parser.add_argument("--out", type=Path, required=True, help="the result CSV")
    parser.add_argument("--labels", type=Path, help="default: GRADEBOOK.labels.json")
    parser.add_argument("--weight", type=float, default=0.65)
    parser.add_argument("--memory-limit", help="DuckDB's memory_limit, e.g. 4GB")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--temp-dir", type=Path, help="where DuckDB spills (its temp_directory)")
    parser.add_argument("--compare", type=Path, metavar="TARGET_GRADES_CSV",
                        help="after the run, count how many of mastery's results it matches")
    args = parser.parse_args(argv)
    labels = args.labels or args.gradebook.with_suffix(".labels.json")
    run(args.gradebook, labels, args.out, args.weight, args.memory_limit, args.threads,
        args.temp_dir)
    if args.compare:
        print(compare(args.out, args.compare), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
