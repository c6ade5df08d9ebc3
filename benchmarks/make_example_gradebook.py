"""Write the example school's gradebook, examples/gradebook/, deterministically.

Riverside's fall term (2026-08-24 to 2027-01-29) as teachers would export it:

* ``algebra1_fall.csv`` - Algebra I, three sections, a long export from the school's gradebook;
* ``biology_fall.csv`` - Biology, two sections, the same long layout;
* ``geometry_canvas_outcome_results.csv`` - a Geometry section taught in Canvas: the Canvas
  "Outcome Results" report (32 columns), outcomes named by their titles;
* ``transfer_previous_school.csv`` - evidence a transfer student brought from Lakeside Middle
  School, with a ``source`` column.

Every student has a starting level and a rate of growth, so scores rise over the term with some
noise; diagnostics come first, formative practice in between, summative tasks at the end of
each unit. About 2% of score cells are blank (not yet scored), 1% are EX (excused) and a few
are M (missing work). Run again and the files are byte-identical:

    python benchmarks/make_example_gradebook.py [--out examples/gradebook]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from datetime import date, timedelta
from pathlib import Path

SEED = 20260824
TERM_START = date(2026, 8, 24)
TERM_DAYS = 158  # to 2027-01-29

FIRST = ["Ava", "Mateo", "Sofia", "Liam", "Camila", "Noah", "Valentina", "Ethan", "Isabella",
         "Lucas", "Mia", "Diego", "Amara", "Kenji", "Zoe", "Omar", "Lena", "Tomás", "Priya",
         "Jonah", "Aaliyah", "Hugo", "Nadia", "Eli", "Rosa", "Samuel", "Chloe", "Malik",
         "Ingrid", "Ravi", "Lucía", "Owen"]
LAST = ["García", "Nguyen", "Smith", "Okafor", "Johansson", "Martínez", "Kim", "Patel",
        "O'Brien", "Haddad", "Rossi", "Cohen", "Silva", "Mbeki", "Novak", "Tanaka", "Walker",
        "López", "Schmidt", "Ali"]

# (day of term, assessment, type, targets)
ALGEBRA = [
    (3, "Diagnostic: number and algebra", "diagnostic", ["MATH.NQ.1", "MATH.ALG.1",
                                                          "MATH.FUN.1"]),
    (10, "Units in context (practice)", "formative", ["MATH.NQ.1", "MATH.NQ.2"]),
    (17, "Quantities task", "summative", ["MATH.NQ.1", "MATH.NQ.2", "MATH.NQ.3"]),
    (24, "Equation warm-ups", "formative", ["MATH.ALG.1"]),
    (31, "Solving equations quiz", "summative", ["MATH.ALG.1", "MATH.ALG.2"]),
    (38, "Group problem: phone plans", "summative", ["MATH.ALG.2", "HAB.COL.1", "HAB.COL.2"]),
    (45, "Literal equations exit ticket", "formative", ["MATH.ALG.3"]),
    (52, "Equations unit test", "summative", ["MATH.ALG.1", "MATH.ALG.2", "MATH.ALG.3"]),
    (59, "Self-direction check-in", "summative", ["HAB.SD.1", "HAB.SD.2", "HAB.SD.3"]),
    (66, "Systems practice", "formative", ["MATH.ALG.4"]),
    (80, "Systems performance task", "summative", ["MATH.ALG.4", "MATH.ALG.2", "HAB.COL.3"]),
    (94, "Functions notation quiz", "summative", ["MATH.FUN.1", "MATH.FUN.2"]),
    (101, "Self-direction check-in", "summative", ["HAB.SD.1", "HAB.SD.2", "HAB.SD.3"]),
    (108, "Linear vs exponential sort", "formative", ["MATH.FUN.3"]),
    (122, "Modelling project", "summative", ["MATH.FUN.3", "MATH.FUN.4", "MATH.NQ.2",
                                             "HAB.COL.1", "HAB.COL.2"]),
    (136, "Equations reassessment", "summative", ["MATH.ALG.1", "MATH.ALG.3"]),
    (150, "Semester task", "summative", ["MATH.ALG.4", "MATH.FUN.2", "MATH.FUN.4",
                                         "HAB.SD.2"]),
]
BIOLOGY = [
    (4, "Diagnostic: cells and systems", "diagnostic", ["SCI.LIFE.1", "SCI.INQ.1"]),
    (12, "Observation journal", "formative", ["SCI.INQ.1"]),
    (19, "Cell structure lab", "summative", ["SCI.LIFE.1", "SCI.INQ.2", "SCI.INQ.3"]),
    (33, "Homeostasis CER draft", "formative", ["SCI.ARG.1"]),
    (40, "Homeostasis investigation", "summative", ["SCI.LIFE.2", "SCI.INQ.3", "SCI.ARG.1",
                                                     "HAB.COL.1"]),
    (54, "Lab team reflection", "summative", ["HAB.COL.2", "HAB.SD.1", "HAB.SD.3"]),
    (68, "Energy in organisms quiz", "summative", ["SCI.LIFE.3"]),
    (82, "Data analysis practice", "formative", ["SCI.INQ.4"]),
    (96, "Ecosystem field study", "summative", ["SCI.LIFE.4", "SCI.INQ.2", "SCI.INQ.4",
                                                "HAB.COL.3"]),
    (117, "Evidence and claims seminar", "summative", ["SCI.ARG.2", "SCI.ARG.1"]),
    (131, "Self-direction check-in", "summative", ["HAB.SD.1", "HAB.SD.2"]),
    (145, "Ecosystem argument", "summative", ["SCI.ARG.3", "SCI.ARG.2", "SCI.LIFE.4"]),
]
GEOMETRY = [
    (14, "Transformations quiz", "quiz", ["MATH.GEO.1"]),
    (42, "Congruence proof portfolio", "assignment", ["MATH.GEO.1", "MATH.GEO.2"]),
    (77, "Similarity quiz", "quiz", ["MATH.GEO.3"]),
    (112, "Design a park: measurement task", "assignment", ["MATH.GEO.4", "MATH.GEO.3"]),
    (140, "Proof reassessment", "quiz", ["MATH.GEO.2"]),
]
TRANSFER = [
    (-40, "Lakeside: pre-algebra benchmark", "summative", ["MATH.NQ.1", "MATH.ALG.1"]),
    (-25, "Lakeside: equations test", "summative", ["MATH.ALG.1", "MATH.ALG.2"]),
    (-12, "Lakeside: science fair project", "summative", ["SCI.INQ.1", "SCI.INQ.2"]),
    (-5, "Lakeside: units and rates quiz", "summative", ["MATH.NQ.2"]),
]

LONG_HEADER = ["student_id", "student_name", "section", "course", "target", "assessment",
               "type", "date", "score", "comment"]


class Student:
    def __init__(self, rng: random.Random, number: int):
        self.id = f"00{41000 + number}"  # ids are text: the leading zeros must survive
        self.first = FIRST[number % len(FIRST)]
        self.last = LAST[(number * 7) % len(LAST)]
        self.start = rng.uniform(1.2, 3.0)
        self.growth = rng.uniform(0.2, 1.3)  # levels gained over the term
        self.habit = rng.uniform(1.5, 3.6)

    @property
    def name(self) -> str:
        return f"{self.last}, {self.first}"

    def score(self, rng: random.Random, target: str, day: int) -> int:
        base = self.habit if target.startswith("HAB.") else self.start + self.growth * (
            max(day, 0) / TERM_DAYS)
        return max(1, min(4, round(base + rng.gauss(0, 0.55))))


def _cell(rng: random.Random, value: int) -> str:
    roll = rng.random()
    if roll < 0.02:
        return ""
    if roll < 0.03:
        return "EX"
    if roll < 0.036:
        return "M"
    return str(value)


def _long_file(rng: random.Random, students: list[Student], sections: list[str], course: str,
               plan: list[tuple[int, str, str, list[str]]], joined_late: dict[str, int]
               ) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LONG_HEADER)
    for index, student in enumerate(students):
        section = sections[index % len(sections)]
        for day, assessment, kind, targets in plan:
            if day < joined_late.get(student.id, 0):
                continue
            when = TERM_START + timedelta(days=day + index % 3)  # sections meet on different days
            for target in targets:
                comment = "retake after conference" if "reassessment" in assessment else ""
                writer.writerow([student.id, student.name, section, course, target,
                                 assessment, kind, when.isoformat(),
                                 _cell(rng, student.score(rng, target, day)), comment])
    return out.getvalue()


def _canvas_file(rng: random.Random, students: list[Student], titles: dict[str, str]) -> str:
    _use_repository()
    from mastery_cli.grading.formats import CANVAS_RESULTS_COLUMNS

    header = list(CANVAS_RESULTS_COLUMNS)  # the 32 columns of the report, in Canvas's order
    ratings = {1: "Beginning", 2: "Developing", 3: "Proficient", 4: "Advanced"}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for index, student in enumerate(students):
        for number, (day, assessment, kind, targets) in enumerate(GEOMETRY, start=1):
            when = TERM_START + timedelta(days=day)
            for target in targets:
                score = student.score(rng, target, day)
                outcome_id = 9000 + sorted(titles).index(target)
                writer.writerow([
                    student.name, 5000 + index, student.id, assessment, 700 + number, kind,
                    f"{when.isoformat()} 15:{10 + index % 40:02d}:00 UTC", score, titles[target],
                    outcome_id, 1, score, "", "", "Geometry", 42, "GEOM-2026", "Geometry P4",
                    88, "GEOM-2026-P4", f"https://riverside.instructure.com/courses/42/"
                    f"assignments/{700 + number}", "", 4, 3, 1 if score >= 3 else 0,
                    ratings[score], score, "Geometry", 300, 1, "Riverside CHS", "active",
                ])
    return out.getvalue()


def build(out: Path) -> list[Path]:
    rng = random.Random(SEED)
    students = [Student(rng, n) for n in range(1, 67)]  # 66 students
    transfer = students[-1]
    transfer.first, transfer.last = "Yusuf", "Demir"
    late = {transfer.id: 45}  # joined in October
    algebra = [*students[:48], transfer]
    biology = students[18:]  # includes the transfer student
    geometry = students[48:60]
    titles = _target_titles()
    files = {
        "algebra1_fall.csv": _long_file(rng, algebra, ["ALG1-P1", "ALG1-P2", "ALG1-P3"],
                                        "ALG1", ALGEBRA, late),
        "biology_fall.csv": _long_file(rng, biology, ["BIO-P5", "BIO-P6"], "BIO", BIOLOGY,
                                       late),
        "geometry_canvas_outcome_results.csv": _canvas_file(rng, geometry, titles),
        "transfer_previous_school.csv": _transfer_file(rng, transfer),
    }
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    return written


def _transfer_file(rng: random.Random, student: Student) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*LONG_HEADER, "source"])
    for day, assessment, kind, targets in TRANSFER:
        when = TERM_START + timedelta(days=45 + day)
        for target in targets:
            writer.writerow([student.id, student.name, "", "", target, assessment, kind,
                             when.isoformat(), student.score(rng, target, 0),
                             "records sent by Lakeside Middle School", "Lakeside Middle School"])
    return out.getvalue()


def _use_repository() -> None:
    """Make this checkout's mastery_cli importable (the script runs without installing it)."""
    import sys

    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)


def _target_titles() -> dict[str, str]:
    """Geometry outcome names as Canvas shows them: the targets' English titles."""
    _use_repository()
    from mastery_cli.validation import load_framework

    root = Path(__file__).resolve().parents[1]
    framework, _ = load_framework(root / "examples" / "framework")
    return {t.id: framework.text(t.title, "en") for t in framework.targets.values()
            if t.id.startswith("MATH.GEO.")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--out", type=Path, default=root / "examples" / "gradebook")
    args = parser.parse_args()
    for path in build(args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
