"""Gradebooks for the engine tests: the example school's long files, and a seeded messy one
(blank, excused and missing cells, level labels, unknown targets, off-scale and non-numeric
scores, bad and US dates, exact copies, a quoted line break, padding rows, hostile names)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORK = ROOT / "examples" / "framework"
POLICY = ROOT / "examples" / "policy.yaml"
SCHOOL = sorted((ROOT / "examples" / "gradebook").glob("*_fall.csv"))
RESULT_FILES = ("target_grades.csv", "competency_grades.csv", "course_grades.csv",
                "progress.csv", "rejects.csv")
TARGETS = ["MATH.ALG.1", "MATH.ALG.2", "MATH.ALG.3", "MATH.NQ.1", "MATH.NQ.2", "MATH.FUN.1",
           "SCI.INQ.1", "SCI.INQ.2", "SCI.LIFE.1", "HAB.COL.1", "HAB.SD.1"]
HEADER = ["student_id", "student_name", "section", "course", "target", "assessment", "type",
          "date", "score", "comment"]


def messy_gradebook(path: Path, students: int = 120, seed: int = 7) -> Path:
    """A long gradebook of about 25 rows per student, in a shuffled order, with every kind of
    row a teacher's export has."""
    rng = random.Random(seed)
    rows: list[list[str]] = []
    for s in range(students):
        student = f"{s:07d}"
        name = rng.choice(["Patel, Mateo", "O'Brien, Farid", "Nguyễn, Ana", '=HYPERLINK("x")',
                           "Tanaka, Emma", " García, Iris "])
        for _ in range(rng.randint(10, 40)):
            target = rng.choice(TARGETS)
            day = rng.randint(1, 28)
            date = rng.choice([f"2026-09-{day:02d}", f"09/{day:02d}/2026", ""])
            score = rng.choice(["1", "2", "3", "4", "2.5", "3.5", "3", "4", "Proficient",
                                "EX", "M", ""])
            rows.append([student, name, "ALG1-P1", "ALG1", target, f"Quiz {rng.randint(1, 9)}",
                         rng.choice(["formative", "summative", "practice", "Summative"]),
                         date, score, rng.choice(["", "", "late", "line one\nline two"])])
    rng.shuffle(rows)
    odd = [
        ["0000001", "Patel, Mateo", "ALG1-P1", "ALG1", "MATH.ALG.9", "Quiz", "formative",
         "2026-09-02", "3", ""],
        ["0000002", "x", "ALG1-P1", "ALG1", "", "Quiz", "formative", "2026-09-02", "3", ""],
        ["", "Nobody", "ALG1-P1", "ALG1", "MATH.ALG.1", "Quiz", "formative", "2026-09-02", "3",
         ""],
        ["0000003", "y", "ALG1-P1", "ALG1", "MATH.ALG.1", "Quiz", "formative", "2026-13-45",
         "3", ""],
        ["0000004", "z", "ALG1-P1", "ALG1", "MATH.ALG.1", "Quiz", "formative", "2026-09-03",
         "7", ""],
        ["0000005", "w", "ALG1-P1", "ALG1", "MATH.ALG.1", "Quiz", "formative", "2026-09-03",
         "abc", ""],
        ["", "", "", "", "", "", "", "", "", ""],
    ]
    for row in odd:
        rows.insert(rng.randrange(len(rows)), row)
    for _ in range(5):  # exact copies of some rows, later in the file
        rows.append(list(rows[rng.randrange(len(rows))]))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path
