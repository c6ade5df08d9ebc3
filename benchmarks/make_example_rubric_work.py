"""Write the example school's rubric-scored work, byte for byte reproducibly:

- examples/calibration/lab-report-session.csv: a double-scored calibration session;
- examples/tasks/water-plan-rubric-scores.csv: a rubric-scored performance task.

The science department's calibration meeting on the homeostasis investigation (the
heart-rate recovery lab): three teachers each score the same 20 lab reports with the lab-report
rubric (five criteria, each on its own target). Ms Reyes scores a little generously, Mr
Lindqvist is strict about data and analysis, and a few reports split the room by two levels.
Ms Reyes left before the last three reports, and one late report was scored by one teacher only.

The Algebra I performance task "Which water plan?" is scored with the modelling-task rubric
(a rated rubric) by Ms Alvarez for section ALG1-P1: one row per student and criterion, the
criterion by its title and the rating by the rubric's own labels, as a rubric-scored Canvas
assignment is exported. `mastery grade --rubric examples/rubrics/modelling-task.yaml` turns
it into evidence on each criterion's target.

    python benchmarks/make_example_rubric_work.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "calibration" / "lab-report-session.csv"
TASK_OUT = ROOT / "examples" / "tasks" / "water-plan-rubric-scores.csv"
CRITERIA = ("Representing the situation", "Solving the system",
            "Interpreting graphs and making a recommendation", "Units and quantities")
LABELS = ("Emerging", "Developing", "Proficient", "Extending")
STUDENTS = [
    ("0041019", "Mbeki, Jonah", "BIO-P5"), ("0041020", "García, Aaliyah", "BIO-P6"),
    ("0041021", "Patel, Hugo", "BIO-P5"), ("0041022", "Novak, Nadia", "BIO-P6"),
    ("0041023", "Nguyen, Eli", "BIO-P5"), ("0041024", "O'Brien, Rosa", "BIO-P6"),
    ("0041025", "Tanaka, Samuel", "BIO-P5"), ("0041026", "Smith, Chloe", "BIO-P6"),
    ("0041027", "Haddad, Malik", "BIO-P5"), ("0041028", "Walker, Ingrid", "BIO-P6"),
    ("0041029", "Okafor, Ravi", "BIO-P5"), ("0041030", "Rossi, Lucía", "BIO-P6"),
    ("0041031", "López, Owen", "BIO-P5"), ("0041032", "Johansson, Ava", "BIO-P6"),
    ("0041033", "Cohen, Mateo", "BIO-P5"), ("0041034", "Schmidt, Sofia", "BIO-P6"),
    ("0041035", "Martínez, Liam", "BIO-P5"), ("0041036", "Silva, Camila", "BIO-P6"),
    ("0041037", "Ali, Noah", "BIO-P5"), ("0041038", "Kim, Valentina", "BIO-P6"),
]
TARGETS = ("SCI.INQ.1", "SCI.INQ.2", "SCI.INQ.3", "SCI.ARG.2", "SCI.INQ.4")
RATERS = ("Okafor", "Lindqvist", "Reyes")
SESSION_DATE = "2026-10-14"
ASSESSMENT = "Homeostasis investigation"


def rating(rng: random.Random, rater: str, target: str, true_level: int) -> int:
    shift = 0
    if rater == "Reyes" and rng.random() < 0.3:
        shift = 1  # generous
    elif rater == "Lindqvist" and target == "SCI.INQ.3" and rng.random() < 0.35:
        shift = -1  # strict about analysis
    elif rng.random() < 0.12:
        shift = rng.choice((-1, 1))
    return min(4, max(1, true_level + shift))


def main() -> None:
    rng = random.Random(18)
    rows = []
    for number, (student_id, name, section) in enumerate(STUDENTS, start=1):
        work_id = f"LR-{number:02d}"
        raters = RATERS if number <= 16 else RATERS[:2]
        if number == 20:
            raters = RATERS[:1]  # handed in late: scored by one teacher
        for target in TARGETS:
            true_level = rng.choices((1, 2, 3, 4), weights=(1, 4, 4, 2))[0]
            given = {r: rating(rng, r, target, true_level) for r in raters}
            if (number, target) in {(4, "SCI.INQ.3"), (11, "SCI.ARG.2"), (15, "SCI.INQ.2")}:
                # Reports that split the room: one teacher reads the work two levels apart.
                given[raters[0]] = 2 if true_level >= 3 else 4
                given[raters[1]] = 4 if given[raters[0]] == 2 else 2
            for rater in raters:
                rows.append([work_id, student_id, name, section, "BIO", target, ASSESSMENT,
                             "summative", SESSION_DATE, str(given[rater]), rater])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["work_id", "student_id", "student_name", "section", "course", "target",
                         "assessment", "type", "date", "score", "rater"])
        writer.writerows(rows)


def algebra_p1_students() -> list[tuple[str, str]]:
    """Section ALG1-P1's students (id, name) in the order of the Algebra I gradebook."""
    with (ROOT / "examples" / "gradebook" / "algebra1_fall.csv").open(encoding="utf-8") as f:
        found = {r["student_id"]: r["student_name"] for r in csv.DictReader(f)
                 if r["section"] == "ALG1-P1"}
    return list(found.items())


def task_main() -> None:
    """The rubric-scored performance task (ids and names as in algebra1_fall.csv)."""
    rng = random.Random(1801)
    rows = []
    for student_id, name in algebra_p1_students()[:12]:
        for criterion in CRITERIA:
            level = rng.choices((1, 2, 3, 4), weights=(1, 3, 4, 2))[0]
            rows.append([student_id, name, "ALG1-P1", "ALG1", "Which water plan? (task)",
                         "summative", "2026-11-20", criterion, LABELS[level - 1], "Alvarez"])
    TASK_OUT.parent.mkdir(parents=True, exist_ok=True)
    with TASK_OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["student_id", "student_name", "section", "course", "assessment", "type",
                         "date", "criterion", "rating", "rater"])
        writer.writerows(rows)


if __name__ == "__main__":
    main()
    task_main()
    main()
