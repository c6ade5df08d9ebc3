"""Write examples/roster.csv: Riverside's roster as the school's SIS exports it.

One row per student and section (an enrollment export), with the SIS's own column names
(``Student Number``, ``Grade Level``, ``Homeroom Teacher``, ``DOB`` in US order...), which
``mastery report --roster`` maps as it maps gradebook columns. Students and sections come from
the example gradebook; the rest is drawn from a fixed seed, so the file is byte for byte
reproducible: ``python benchmarks/make_example_roster.py``.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HEADER = ["Student Number", "Student Name", "Grade Level", "Homeroom Teacher", "Section",
          "Teacher", "Days Present", "Days Absent", "DOB"]
TEACHERS = {"ALG1-P1": "Ms. Rivera", "ALG1-P2": "Ms. Rivera", "ALG1-P3": "Mr. Haddad",
            "BIO-P5": "Dr. Chen", "BIO-P6": "Dr. Chen", "Geometry P4": "Mr. Osei"}
ADVISORS = ["Ms. Alvarez", "Mr. Brooks", "Ms. Nguyen", "Mr. Kowalski"]
SCHOOL_DAYS = 88  # 2026-08-24 to 2027-01-29, without holidays
JOINED = {"0041066": 64}  # Yusuf Demir joined in October: the days since he did


def enrollments() -> dict[str, tuple[str, list[str]]]:
    """Student id -> (name, sections), in gradebook order."""
    found: dict[str, tuple[str, list[str]]] = {}

    def add(student_id: str, name: str, section: str) -> None:
        entry = found.setdefault(student_id, (name, []))
        if section and section not in entry[1]:
            entry[1].append(section)

    gradebook = EXAMPLES / "gradebook"
    for name in ("algebra1_fall.csv", "biology_fall.csv", "transfer_previous_school.csv"):
        with (gradebook / name).open(encoding="utf-8", newline="") as file:
            for row in csv.DictReader(file):
                add(row["student_id"], row["student_name"], row["section"])
    with (gradebook / "geometry_canvas_outcome_results.csv").open(encoding="utf-8",
                                                                  newline="") as file:
        for row in csv.DictReader(file):
            add(row["student sis id"], row["student name"], row["section name"])
    return found


def main() -> None:
    rng = random.Random(17)
    rows = []
    for index, (student_id, (name, sections)) in enumerate(enrollments().items()):
        grade = rng.choice(["9", "9", "10"])
        advisor = ADVISORS[index % len(ADVISORS)]
        absent = rng.choice([0, 1, 1, 2, 3, 4, 6, 9]) + rng.choice([0, 0, 0.5])
        born = date(2012 if grade == "9" else 2011, 1, 1) + timedelta(days=rng.randrange(365))
        for section in sections or [""]:
            rows.append([student_id, name, grade, advisor, section, TEACHERS.get(section, ""),
                         f"{JOINED.get(student_id, SCHOOL_DAYS) - absent:g}", f"{absent:g}",
                         born.strftime("%m/%d/%Y")])
    with (EXAMPLES / "roster.csv").open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


if __name__ == "__main__":
    main()
