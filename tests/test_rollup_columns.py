"""The column roll-ups (`competency_table`, `course_table`, `progress_table` on `Table`s, numpy
only) against golden files, and how they must not depend on the way texts are coded.

Every score is kept to its last bit: the golden files (tests/golden/rollup/, ``UPDATE_GOLDEN=1``
rewrites them; review the diff) hold each result as Python writes the float back exactly.
Sums follow the choice pandas made when these tables were DataFrames (``np.add.reduceat`` when
the rows come sorted by group without NaN, Kahan summation otherwise), so the target tables
here come sorted and shuffled, with and without results missing, with duplicate rows and
large groups. Text columns are `Coded` the way the engine builds them: texts unsorted, repeated
or unused, and missing values as code -1; any such coding gives the same results. Exact
arithmetic of the roll-ups is checked end to end in test_exact_arithmetic.py.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
from golden_json import assert_golden_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastery_cli.framework.model import Competency, Course, Framework, Progression, Target
from mastery_cli.grading.policy import (
    ROLLUPS,
    Policy,
    apply_options,
    build_policy,
    load_policy_document,
    policy_from_data,
)
from mastery_cli.grading.progress import PROGRESS_COLUMNS, progress_table
from mastery_cli.grading.rollup import (
    COMPETENCY_COLUMNS,
    COURSE_COLUMNS,
    competency_table,
    course_table,
)
from mastery_cli.grading.table import Coded, Flags, Table
from mastery_cli.validation import load_framework

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = load_framework(ROOT / "examples" / "framework")[0]

OK, INSUFFICIENT, EXCUSED, NO_RESULT = "ok", "insufficient-evidence", "excused", "no-result"


def _variant(framework: Framework) -> Framework:
    """The example framework with the corners the example lacks: a competency of eleven
    targets (groups past numpy's eight-way pairwise sums), a course whose grade uses no unit,
    a course naming an efficacy target, an unknown competency and target, titles that clash
    with ids, a course without credits, overlapping progressions repeating a target, a
    progression longer than a mask has bits, and an empty progression."""
    big = Competency(
        id="BIG", title="Big", kind="academic",
        targets=[Target(id=f"BIG.{i}", statement="s", competency_id="BIG") for i in range(11)],
    )
    competencies = {**framework.competencies, "BIG": big}
    targets = {**framework.targets, **{t.id: t for t in big.targets}}
    courses = {
        **framework.courses,
        "CLUB": Course(id="CLUB", title="Study Club", competencies=["HAB.SD"], credits=None),
        "MIX": Course(id="MIX", title={"en": "GEOM", "es": "Mezcla"},
                      competencies=["BIG", "NOPE"], targets=["HAB.COL.2", "NOPE.1", "SCI.ARG.1"],
                      credits=0.25),
    }
    progressions = {
        **framework.progressions,
        "A.OVERLAP": Progression(id="A.OVERLAP", targets=[
            "MATH.FUN.4", "SCI.LIFE.4", "BIG.3", "MATH.FUN.4", "MATH.ALG.1"]),
        "Z.EMPTY": Progression(id="Z.EMPTY", targets=[]),
        # Longer than the 62 bits of a mask, repeating targets: read in its first 62.
        "LONG": Progression(id="LONG", targets=[*sorted(targets), *sorted(targets)[:27]]),
    }
    return dataclasses.replace(framework, competencies=competencies, targets=targets,
                               courses=courses, progressions=progressions)


VARIANT = _variant(EXAMPLE)
FRAMEWORKS = {"example": EXAMPLE, "variant": VARIANT}

STUDENTS = ["0001", "0002", "0010", "A-7", "b12", "Émile", "s 3", "zz"]
NAMES = ["Tanaka, Emma", "O'Neil, Sam", "", "Núñez, Ana", "Lee", "lee"]
COURSE_NAMES = [
    "ALG1", "alg1", " Algebra I ", "ALGEBRA I", "Álgebra I", "GEOM", "geometry", "Geometría\t",
    "BIO", "biology", "\u3000Biología\u3000", "Water", "community water study",
    " Estudio del agua de nuestra comunidad ", "Art", "", "bio logy", "CLUB", "study club",
    "mix", "Mezcla", "\u2003geom\u2003",
]
SCORES = [1.0, 2.0, 3.0, 4.0, 0.1, 0.2, 0.7, 1 / 3, 2 / 3, 2.675, 2.5, 3.45, 3.4999999999999996,
          1.005, 2.2, 3.3]
LEVELS = [1.0, 2.0, 3.0, 4.0, 2.5, float("nan")]


# ------------------------------------------------------------------------------- building


def _coded(values: list[str], rnd: random.Random) -> Coded:
    """``values`` coded the way the engine may code them: texts sorted and distinct (as the
    reader's columns), or shuffled, some repeated, some unused, and "" sometimes as a missing
    value (code -1)."""
    distinct = sorted(set(values))
    if rnd.random() < 0.35:
        position = {text: i for i, text in enumerate(distinct)}
        return Coded(np.array([position[v] for v in values], dtype=np.int64), distinct)
    texts = distinct + rnd.sample(["unused", "zzz", " x"], rnd.randint(0, 2))
    texts += rnd.sample(distinct, min(len(distinct), rnd.randint(0, 2)))  # repeats
    rnd.shuffle(texts)
    where: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        where.setdefault(text, []).append(index)
    missing = rnd.random() < 0.5
    codes = [-1 if (v == "" and missing) else rnd.choice(where[v]) for v in values]
    # pyarrow's dictionary indices are int32; the engine's own codes int64.
    return Coded(np.array(codes, dtype=rnd.choice([np.int32, np.int64])), texts)


def _competency_of(framework: Framework, target: str) -> str:
    known = framework.targets.get(target)
    return known.competency_id if known else target.rsplit(".", 1)[0]


def _targets_table(rows: list[dict[str, Any]], framework: Framework,
                   rnd: random.Random) -> Table:
    """A target table (the engine's columns) from row dictionaries."""
    def text(name: str) -> Coded:
        return _coded([r[name] for r in rows], rnd)

    status = [r["status"] for r in rows]
    return Table({
        "student_id": text("student_id"),
        "student_name": text("student_name"),
        "target": text("target"),
        "competency": _coded([_competency_of(framework, r["target"]) for r in rows], rnd),
        "method": _coded(["decaying average"] * len(rows), rnd),
        "score": np.array([r["score"] for r in rows], dtype=np.float64),
        "level": np.array([r["level"] for r in rows], dtype=np.float64),
        "label": _coded(["Proficient" if r["level"] == 3.0 else "" for r in rows], rnd),
        "mastered": Flags(np.array([r["mastered"] for r in rows], dtype=bool),
                          np.array([s == OK or r["known"] for s, r in zip(status, rows,
                                                                          strict=True)],
                                   dtype=bool)),
        "evidence_count": np.array([r["count"] for r in rows], dtype=np.int64),
        "status": _coded(status, rnd),
        "last_evidence_date": np.array(
            [np.datetime64("2026-09-01") + np.timedelta64(r["count"], "D") if r["count"]
             else np.datetime64("NaT") for r in rows], dtype="datetime64[ns]"),
        "scale": _coded(["academic"] * len(rows), rnd),
    }, len(rows))


def _evidence_table(rows: list[tuple[str, str]], rnd: random.Random) -> Table:
    return Table({
        "student_id": _coded([s for s, _ in rows], rnd),
        "course": _coded([c for _, c in rows], rnd),
        "score": np.zeros(len(rows)),
    }, len(rows))


# ------------------------------------------------------------------------------ results

GOLDEN = Path(__file__).parent / "golden" / "rollup"


def _cell(value: Any) -> Any:
    """A cell as JSON keeps it: floats as the shortest text that reads back to the same bits."""
    if isinstance(value, float | np.floating):
        return "nan" if math.isnan(value) else repr(float(value))
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, str | int | bool | None) else str(value)


def _table_rows(table: Table) -> dict[str, Any]:
    frame = table.to_pandas()
    return {"columns": list(frame.columns),
            "rows": [[_cell(v) for v in row] for row in frame.itertuples(index=False)]}


def _results(framework: Framework, policy: Policy, targets: Table,
             evidence: Table) -> dict[str, Any]:
    """The three roll-ups, as rows of exact values; the columns and types checked on the way."""
    competencies = competency_table(targets, framework, policy)
    assert list(competencies.columns) == [*COMPETENCY_COLUMNS, "scale"]
    assert isinstance(competencies["mastered"], Flags)
    courses = course_table(evidence, targets, competencies, framework, policy)
    assert list(courses.columns) == COURSE_COLUMNS
    # Competency results coded otherwise than the targets (only the texts used, sorted).
    recoded = Table.from_pandas(competencies.to_pandas())
    again = course_table(evidence, targets, recoded, framework, policy)
    assert _table_rows(again) == _table_rows(courses)
    progress = progress_table(targets, framework, policy)
    assert list(progress.columns) == PROGRESS_COLUMNS
    if len(progress):
        assert progress["ready_to_advance"].dtype == bool  # type: ignore[union-attr]
    return {"competencies": _table_rows(competencies), "courses": _table_rows(courses),
            "progress": _table_rows(progress)}


def assert_golden(name: str, value: Any) -> None:
    assert_golden_json(GOLDEN, name, value)


def _policy(data: dict[str, Any]) -> Policy:
    policy, problems = policy_from_data(data)
    assert policy is not None, problems
    return policy


# ------------------------------------------------------------------------------- the cases

T = TypeVar("T")


class Chooser(Protocol):
    """The choices a case is made of: drawn by hypothesis, or by a seeded `random.Random` for
    the cases kept in the golden file (one definition of the cases for both)."""

    rnd: random.Random

    def pick(self, options: list[T]) -> T: ...

    def number(self, low: int, high: int) -> int: ...

    def coin(self) -> bool: ...

    def some(self, options: list[T], max_size: int, min_size: int = 0,
             unique: bool = False) -> list[T]: ...


class Drawn:
    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.rnd = draw(st.randoms(use_true_random=False))

    def pick(self, options: list[T]) -> T:
        return self.draw(st.sampled_from(options))

    def number(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))

    def coin(self) -> bool:
        return self.draw(st.booleans())

    def some(self, options: list[T], max_size: int, min_size: int = 0,
             unique: bool = False) -> list[T]:
        return self.draw(st.lists(st.sampled_from(options), min_size=min_size,
                                  max_size=max_size, unique=unique))


class Seeded:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    def pick(self, options: list[T]) -> T:
        return self.rnd.choice(options)

    def number(self, low: int, high: int) -> int:
        return self.rnd.randint(low, high)

    def coin(self) -> bool:
        return self.rnd.random() < 0.5

    def some(self, options: list[T], max_size: int, min_size: int = 0,
             unique: bool = False) -> list[T]:
        size = self.rnd.randint(min_size, max_size)
        if unique:
            distinct = list(dict.fromkeys(options))
            return self.rnd.sample(distinct, min(size, len(distinct)))
        return [self.rnd.choice(options) for _ in range(size)]


_WEIGHTS = [0.5, 2.0, 3.0, 0.1, 1.0, 0.0]


def _weights(choose: Chooser, keys: list[str], nonzero: bool) -> dict[str, float]:
    options = [w for w in _WEIGHTS if w or not nonzero]
    return {k: choose.pick(options) for k in choose.some(keys, 4, unique=True)}


def rollup_data(choose: Chooser, target_ids: list[str]) -> dict[str, Any]:
    method = choose.pick(list(ROLLUPS))
    data: dict[str, Any] = {"method": method}
    if method == "n_of_m" or choose.coin():
        data["n"] = choose.number(1, 4)
    if choose.coin():
        data["weights"] = _weights(choose, target_ids, nonzero=True)
    if choose.coin():
        data["min_targets"] = choose.number(1, 3)
    return data


def grade_rules(choose: Chooser) -> list[dict[str, Any]]:
    rules = []
    levels = [1.0, 2.0, 2.5, 3.0, 4.0]
    for grade in choose.some(["A", "B", "C", "D", ""], 4):
        rule: dict[str, Any] = {"grade": grade}
        if choose.coin():
            rule["at_least"] = {
                "level": choose.pick(levels),
                **({"count": choose.number(0, 3)} if choose.coin()
                   else {"share": choose.pick([0.0, 0.25, 0.5, 1 / 3, 1.0])}),
            }
        if choose.coin():
            rule["none_below"] = choose.pick(levels)
        if ("at_least" not in rule and "none_below" not in rule) or choose.coin():
            rule["min_score"] = choose.pick([1.5, 2.5, 2.675, 3.0, 3.5])
        if choose.coin():
            rule["description"] = choose.pick(
                ["plain words", {"en": "in English", "es": "en español"}])
        rules.append(rule)
    if choose.coin():
        rules.append({"grade": choose.pick(["F", "I"])})  # the catch-all, last
    return rules


def policy_data(choose: Chooser, framework: Framework) -> dict[str, Any]:
    target_ids = sorted(framework.targets)
    competency_ids = sorted(framework.competencies)
    data: dict[str, Any] = {"competency_rollup": rollup_data(choose, target_ids)}
    overridden = choose.some(competency_ids, 3, unique=True)
    data["overrides"] = {c: {"rollup": rollup_data(choose, target_ids)} for c in overridden}
    course: dict[str, Any] = {
        "combine": choose.pick(["mean", "weighted_mean"]),
        "min_competencies": choose.number(1, 3),
    }
    if choose.coin():
        course["weights"] = _weights(choose, competency_ids + target_ids, nonzero=False)
    decide = choose.pick(["rules", "conversion", "scale"])
    if decide == "rules":
        course["rules"] = grade_rules(choose)
    elif decide == "conversion":
        minimums = sorted(choose.some([3.5, 2.675, 2.5, 1.5, 1.0, 0.0], 4, min_size=1,
                                      unique=True), reverse=True)
        course["conversion"] = [{"min": m, "grade": g} for m, g in
                                zip(minimums, ["A", "B", "C", "D"], strict=False)]
    data["course_grade"] = course
    if choose.coin():
        data["levels"] = {"cut_points": {"2": 1.5, "3": 2.5, "4": 3.5}}
        if choose.coin():
            data["levels"]["scales"] = {"habits": {"3": 2.75}}
    data["rounding"] = {"places": choose.number(0, 3)}
    data["efficacy_in_course_grade"] = choose.coin()
    data["progression"] = {"ready_share": choose.pick([0.5, 0.75, 0.8, 1.0])}
    return data


@dataclasses.dataclass
class Case:
    framework: str
    policy: dict[str, Any]
    rows: list[dict[str, Any]]
    evidence: list[tuple[str, str]]

    def tables(self, rnd: random.Random) -> tuple[Framework, Policy, Table, Table]:
        """The case's tables, texts coded as ``rnd`` picks."""
        framework = FRAMEWORKS[self.framework]
        return (framework, _policy(self.policy), _targets_table(self.rows, framework, rnd),
                _evidence_table(self.evidence, rnd))


def make_case(choose: Chooser) -> Case:
    name = choose.pick(sorted(FRAMEWORKS))
    framework = FRAMEWORKS[name]
    data = policy_data(choose, framework)
    target_ids = [*sorted(framework.targets), "NOPE.1", "X.9"]
    students = choose.some(STUDENTS, 5, unique=True)
    rows = []
    for student in students:
        name_text = choose.pick(NAMES)
        for target in choose.some(target_ids, 24, unique=True):
            status = choose.pick([OK, OK, OK, INSUFFICIENT, EXCUSED, NO_RESULT])
            score = choose.pick(SCORES) if status == OK or choose.coin() else float("nan")
            rows.append({
                "student_id": student,
                # Names may differ between a student's rows; the first non-empty one counts.
                "student_name": name_text if choose.number(0, 5) else choose.pick(NAMES),
                "target": target,
                "status": status,
                "score": score,
                "level": choose.pick(LEVELS),
                "mastered": choose.coin(),
                "known": choose.coin(),
                "count": choose.number(0, 6),
            })
    layout = choose.pick(["sorted", "sorted", "shuffled", "duplicates"])
    if layout == "duplicates" and rows:
        rows += [dict(r) for r in choose.some(rows, 12)]
    rows.sort(key=lambda r: (r["student_id"], r["target"]))
    if layout == "shuffled":
        choose.rnd.shuffle(rows)
    # Evidence: each student's rows name courses (or not); some students only have evidence.
    ev_students = students + choose.some([*STUDENTS, ""], 2)
    evidence = [
        (student, course)
        for student in ev_students
        for course in choose.some(COURSE_NAMES, 4, min_size=1)
        for _ in range(choose.number(1, 3))
    ]
    if choose.coin():
        choose.rnd.shuffle(evidence)
    return Case(name, data, rows, evidence)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Case, int, int]:
    return make_case(Drawn(draw)), draw(st.integers(0, 2**32)), draw(st.integers(0, 2**32))


SEEDED = 80


def test_seeded_cases_give_the_golden_results() -> None:
    results = {}
    for seed in range(SEEDED):
        case = make_case(Seeded(seed))
        results[str(seed)] = _results(*case.tables(random.Random(seed)))
    assert sum(bool(r["competencies"]["rows"]) for r in results.values()) > SEEDED // 2
    assert_golden("seeded", results)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_results_do_not_depend_on_how_texts_are_coded(drawn: tuple[Case, int, int]) -> None:
    """Texts sorted or shuffled, repeated, unused or missing as -1, int32 or int64 codes: the
    same rows give the same results to the last bit."""
    case, first, second = drawn
    assert _results(*case.tables(random.Random(first))) == _results(
        *case.tables(random.Random(second)))


# ------------------------------------------------------------------------ hand-written cases


def _rows(pairs: list[tuple[str, str, str, float]], name: str = "Lee") -> list[dict[str, Any]]:
    return [{"student_id": s, "student_name": name, "target": t, "status": status,
             "score": score, "level": 3.0 if score >= 2.5 else 2.0, "mastered": score >= 2.5,
             "known": False, "count": 2} for s, t, status, score in pairs]


def _example_policy() -> Policy:
    document, problems = load_policy_document(ROOT / "examples" / "policy.yaml")
    assert not problems
    policy, problems = build_policy(document)
    assert policy is not None, problems
    return policy


def _sums_cases() -> list[tuple[str, list[dict[str, Any]]]]:
    """Groups whose sum depends on the order and manner of adding (0.1 + 0.2 + 0.7 ...)."""
    fractions = [0.1, 0.2, 0.7, 1 / 3, 2 / 3, 0.3, 2.675, 3.3, 1.1, 2.2, 0.9]
    big = [("0001", f"BIG.{i}", OK, fractions[i]) for i in range(11)]
    water = [("0001", t, OK, fractions[i]) for i, t in enumerate(
        ["HAB.COL.1", "SCI.INQ.2", "SCI.INQ.3", "SCI.INQ.4", "SCI.ARG.3", "SCI.LIFE.4",
         "MATH.NQ.2", "MATH.FUN.4", "MATH.GEO.4"])]
    maths = [(s, t, OK, fractions[(i + j) % 11])
             for j, s in enumerate(["0001", "0002", "0003"])
             for i, t in enumerate(sorted(t for t in EXAMPLE.targets if t.startswith("MATH")))]
    return [
        ("sorted, no gap (reduceat)", _rows(sorted(big + maths))),
        ("one result missing (Kahan)",
         _rows(sorted([*big, *maths[:-1], ("0003", maths[-1][1], NO_RESULT, float("nan"))]))),
        ("shuffled (Kahan)", _rows(list(reversed(sorted(big + maths))))),
        ("water module", _rows(sorted(water))),
    ]


def test_sums_keep_their_last_bit() -> None:
    results = {}
    for name, rows in _sums_cases():
        students = sorted({r["student_id"] for r in rows})
        for course_names, evidence in {
            "named": [(s, c) for s in students for c in ("MIX", "water", "ALG1", "GEOM")],
            "unnamed": [(s, "") for s in students],
            # Pairs first named out of key order: pandas then summed with Kahan.
            "reversed": [(s, c) for s in reversed(students) for c in ("water", "MIX", "ALG1")],
        }.items():
            for method in ["mean", "weighted_mean", "median", "minimum", "n_of_m"]:
                policy = _policy({
                    "competency_rollup": {"method": method, "n": 2,
                                          "weights": {"BIG.3": 2.0, "MATH.ALG.2": 3.0}},
                    "course_grade": {"combine": "weighted_mean",
                                     "weights": {"SCI.INQ.3": 2.0, "BIG": 3.0}},
                    "efficacy_in_course_grade": True,
                    "rounding": {"places": 3},
                })
                rnd = random.Random(name)
                results[f"{name}, {course_names}, {method}"] = _results(
                    VARIANT, policy, _targets_table(rows, VARIANT, rnd),
                    _evidence_table(evidence, rnd))
    assert_golden("sums", results)


def test_the_summation_pandas_chose_is_kept() -> None:
    """Sums whose last bit tells reduceat (rows in group order, no NaN) from Kahan: the new
    tables must follow pandas' choice, which the layout of the inputs decides."""
    policy = _policy({"course_grade": {"combine": "mean"}, "efficacy_in_course_grade": True,
                      "rounding": {"places": 3}})
    # MATH.ALG adds 1/3 + 1/3 + 0.1 + 2.2; course MIX adds BIG, HAB.COL.2 and SCI.ARG.1.
    scores = {"MATH.ALG.1": 1 / 3, "MATH.ALG.2": 1 / 3, "MATH.ALG.3": 0.1, "MATH.ALG.4": 2.2,
              "BIG.0": 1.0, "HAB.COL.2": 1.0, "SCI.ARG.1": 1 / 3}
    results = []
    for layout in ("in order", "a missing result", "courses named out of order"):
        pairs = [(s, t, OK, v) for s in ("0001", "0002") for t, v in sorted(scores.items())]
        if layout == "a missing result":
            pairs.append(("0003", "MATH.NQ.1", NO_RESULT, float("nan")))
        rows = _rows(pairs)
        students = ("0002", "0001") if layout == "courses named out of order" else (
            "0001", "0002")
        rnd = random.Random(layout)
        targets = _targets_table(rows, VARIANT, rnd)
        evidence = _evidence_table([(s, "mix") for s in students], rnd)
        competencies = competency_table(targets, VARIANT, policy)
        algebra = competencies.take(np.flatnonzero(
            competencies.coded("competency").equals_text("MATH.ALG")))
        courses = course_table(evidence, targets, competencies, VARIANT, policy)
        results.append((float(algebra.array("score")[0]), float(courses.array("score")[0])))
    (sorted_alg, sorted_mix), (missing_alg, missing_mix), (named_alg, named_mix) = results
    assert sorted_alg == named_alg == 2.9666666666666672 / 4
    assert missing_alg == 2.966666666666667 / 4 != sorted_alg
    assert sorted_mix == missing_mix == 0.7777777777777777 != named_mix == 0.7777777777777778


def test_the_example_policy_and_options() -> None:
    rnd = random.Random(7)
    rows = _rows([(s, t, OK if (i + j) % 5 else INSUFFICIENT, SCORES[(i * 3 + j) % len(SCORES)])
                  for j, s in enumerate(STUDENTS) for i, t in enumerate(sorted(EXAMPLE.targets))])
    evidence = [(s, c) for s, c in zip(STUDENTS, COURSE_NAMES, strict=False)]
    results = {}
    for name, policy in (("example policy", _example_policy()),
                         ("mode, places=1", apply_options(None, "mode", ["places=1"])),
                         ("example policy, places=0",
                          apply_options(_example_policy(), None, ["places=0"]))):
        results[name] = _results(EXAMPLE, policy, _targets_table(rows, EXAMPLE, rnd),
                                 _evidence_table(evidence, rnd))
    assert_golden("example-policy", results)


def test_empty_tables() -> None:
    rnd = random.Random(1)
    empty_targets = _targets_table([], EXAMPLE, rnd)
    nothing = _results(EXAMPLE, _example_policy(), empty_targets, _evidence_table([], rnd))
    assert {name: table["rows"] for name, table in nothing.items()} == {
        "competencies": [], "courses": [], "progress": []}
    # A course named in the evidence, no result: the course is listed, not assessed.
    named = _results(EXAMPLE, _example_policy(), empty_targets,
                     _evidence_table([("0001", "ALG1"), ("0002", "")], rnd))
    assert {name: table["rows"] for name, table in named.items()} == {
        "competencies": [], "progress": [],
        "courses": [["0001", "", "ALG1", "", "nan", "not-assessed",
                     "fewer than 1 competencies with a result", "1.0", 0, 3]]}


def test_no_scale_no_progression_no_course() -> None:
    """Without scales there are no levels, and course grades have neither table nor scale;
    without progressions or courses those tables are empty."""
    rnd = random.Random(3)
    rows = _rows([("0001", "MATH.ALG.1", OK, 3.0), ("0001", "MATH.ALG.2", OK, 2.0),
                  ("0002", "MATH.ALG.1", INSUFFICIENT, float("nan"))])
    results = {}
    for bare_name, bare in (
            ("no scale, no progression",
             dataclasses.replace(EXAMPLE, scales={}, default_scale_id=None, progressions={})),
            ("no course", dataclasses.replace(EXAMPLE, courses={}))):
        for evidence in ([("0001", "alg1")], [("0001", ""), ("0002", "x")]):
            result = _results(bare, _policy({}), _targets_table(rows, bare, rnd),
                              _evidence_table(evidence, rnd))
            results[f"{bare_name}, courses {evidence}"] = result
            if bare_name == "no course":
                assert result["courses"]["rows"] == []
            else:
                assert result["progress"]["rows"] == []
                assert {row[5] for row in result["competencies"]["rows"]} == {"nan"}  # level
    assert_golden("bare", results)


# ---------------------------------------------------------------------------- no pandas


def test_rollups_import_neither_pandas_nor_pyarrow_compute() -> None:
    """The grading hot path must not pay for ``import pandas`` (0.23 s) nor for pyarrow's
    compute kernels (0.19 s to register on the first call of any compute function)."""
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        import numpy as np
        from mastery_cli.grading.policy import policy_from_data
        from mastery_cli.grading.progress import progress_table
        from mastery_cli.grading.rollup import competency_table, course_table
        from mastery_cli.grading.table import Coded, Flags, Table
        from mastery_cli.validation import load_framework

        framework = load_framework(Path({str(ROOT / "examples" / "framework")!r}))[0]
        policy, _ = policy_from_data({{"course_grade": {{"rules": [{{"grade": "P",
                                      "min_score": 2.5}}, {{"grade": "F"}}]}}}})
        n = 6
        targets = Table({{
            "student_id": Coded(np.array([0, 0, 0, 1, 1, 1]), ["s2", "s1"]),
            "student_name": Coded(np.array([0, 0, 0, 1, 1, -1]), ["B", "A"]),
            "target": Coded(np.array([0, 1, 2, 0, 1, 2]),
                            ["MATH.ALG.1", "MATH.ALG.2", "MATH.NQ.1"]),
            "competency": Coded(np.array([0, 0, 1, 0, 0, 1]), ["MATH.ALG", "MATH.NQ"]),
            "score": np.array([3.0, 2.5, 1.0, 4.0, np.nan, 2.0]),
            "level": np.array([3.0, 3.0, 1.0, 4.0, np.nan, 2.0]),
            "mastered": Flags(np.array([1, 1, 0, 1, 0, 0], bool),
                              np.array([1, 1, 1, 1, 0, 1], bool)),
            "status": Coded(np.array([0, 0, 0, 0, 1, 0]), ["ok", "insufficient-evidence"]),
        }}, n)
        evidence = Table({{"student_id": Coded(np.array([1, 1, 0]), ["s2", "s1"]),
                           "course": Coded(np.array([0, 0, -1]), [" algebra i"])}})
        competencies = competency_table(targets, framework, policy)
        courses = course_table(evidence, targets, competencies, framework, policy)
        progress = progress_table(targets, framework, policy)
        print(json.dumps({{
            "rows": [len(competencies), len(courses), len(progress)],
            # Any pyarrow compute call (even an Array method) loads pyarrow._compute.
            "modules": sorted(m for m in sys.modules if m.split(".")[0] == "pandas"
                              or m in ("pyarrow.compute", "pyarrow._compute")),
        }}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["modules"] == []
    assert report["rows"] == [4, 2, 4]
