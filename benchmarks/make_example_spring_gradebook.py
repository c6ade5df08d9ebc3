"""Write the example school's spring gradebook, examples/gradebook-spring/, deterministically.

Riverside's spring term (2027-02-01 to 2027-06-11), for transcripts across terms:

* ``geometry_spring.csv`` - Geometry (``GEOM``), taken by the fall's Algebra I students;
* ``water_study_spring.csv`` - the Community Water Study module (``WATER``, half a credit),
  taken by the fall's Biology students.

The students are the fall's (the same ids, names and pace of growth, from
``make_example_gradebook.py``): each starts the spring where the fall left them. Graded by
``examples/policy-spring.yaml``. Run again and the files are byte-identical:

    python benchmarks/make_example_spring_gradebook.py [--out examples/gradebook-spring]
"""

from __future__ import annotations

import argparse
import random
from datetime import date
from pathlib import Path

import make_example_gradebook as fall

SEED = 20270201
TERM_START = date(2027, 2, 1)

GEOMETRY = [
    (3, "Diagnostic: shapes and space", "diagnostic", ["MATH.GEO.1", "MATH.NQ.2"]),
    (10, "Rigid motions practice", "formative", ["MATH.GEO.1"]),
    (17, "Transformations task", "summative", ["MATH.GEO.1", "MATH.NQ.2"]),
    (31, "Congruence proofs quiz", "summative", ["MATH.GEO.2", "HAB.SD.1"]),
    (45, "Solving for a quantity", "summative", ["MATH.ALG.3", "MATH.GEO.2"]),
    (59, "Similar triangles practice", "formative", ["MATH.GEO.3"]),
    (73, "Similarity and trigonometry test", "summative", ["MATH.GEO.3", "MATH.ALG.3",
                                                           "HAB.COL.1"]),
    (94, "Design a park: measurement task", "summative", ["MATH.GEO.4", "MATH.NQ.2",
                                                          "HAB.COL.2", "HAB.SD.2"]),
    (115, "Proof reassessment", "summative", ["MATH.GEO.2", "MATH.GEO.3"]),
]
WATER = [
    (5, "Field safety and sampling plan", "diagnostic", ["SCI.INQ.2", "HAB.COL.1"]),
    (19, "Mill Creek sampling, site 1", "summative", ["SCI.INQ.2", "SCI.INQ.3", "MATH.NQ.2"]),
    (33, "Dissolved oxygen lab", "formative", ["SCI.INQ.3"]),
    (47, "Mill Creek sampling, sites 2 and 3", "summative", ["SCI.INQ.3", "SCI.INQ.4",
                                                             "HAB.COL.2"]),
    (61, "Stream flow model", "summative", ["MATH.FUN.4", "MATH.GEO.4", "SCI.INQ.4"]),
    (75, "Ecosystem impacts brief", "summative", ["SCI.LIFE.4", "SCI.ARG.3"]),
    (96, "Conservation Commission presentation", "summative", ["SCI.ARG.3", "SCI.LIFE.4",
                                                               "HAB.COL.3", "HAB.SD.3"]),
]


class SpringStudent(fall.Student):
    """A fall student a term later: starting where the fall's growth left them."""

    def __init__(self, student: fall.Student):
        self.__dict__.update(student.__dict__)
        self.start = student.start + student.growth


def build(out: Path) -> list[Path]:
    rng = random.Random(fall.SEED)
    students = [fall.Student(rng, n) for n in range(1, 67)]  # the fall's, drawn alike
    transfer = students[-1]
    transfer.first, transfer.last = "Yusuf", "Demir"
    spring = [SpringStudent(s) for s in students]
    geometry = [*spring[:48], spring[-1]]
    water = spring[18:]
    rng = random.Random(SEED)
    fall.TERM_START = TERM_START  # the long-file writer dates rows from the term's start
    files = {
        "geometry_spring.csv": fall._long_file(rng, geometry, ["GEOM-P1", "GEOM-P2", "GEOM-P3"],
                                               "GEOM", GEOMETRY, {}),
        "water_study_spring.csv": fall._long_file(rng, water, ["WATER-A", "WATER-B"], "WATER",
                                                  WATER, {}),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--out", type=Path, default=root / "examples" / "gradebook-spring")
    args = parser.parse_args()
    for path in build(args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
