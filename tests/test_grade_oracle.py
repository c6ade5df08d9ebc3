"""`mastery grade` end to end against an independent oracle.

The gradebooks here are generated (seeded `random`, a different seed per case), written as the
export formats the README and FIELD-NOTES describe (our long and wide CSV, Canvas "Outcome
Results" in 32 and 17 columns, the Canvas Learning Mastery Gradebook, a PowerSchool-like export
read through the policy's `input.columns`), with the messiness real exports have: blank cells,
`EX`, `M`, unknown targets, off-scale and non-numeric scores, level labels in any case, exact
duplicate rows, bad dates, undated evidence, ties on a date, ids with leading zeros.

The oracle reads the files it wrote with the `csv` module and applies the documented rules
(README "mastery grade", docs/CONTRACTS.md, the policy schema, FIELD-NOTES sections 2 and 3)
in plain Python: one value at a time, no numpy, nothing from `mastery_cli` but the command.
Each row of target_grades.csv is compared with it (score as written, level, label, mastered,
evidence count, status, last evidence date), and so is the accounting: every unit read is used
or listed in rejects.csv with its reason, and the summary says rows read = used + set aside +
rejected.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import re
import statistics
import subprocess
import sys
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastery_cli.cli.application import app

# --------------------------------------------------------------------------------------------
# The framework: an academic 0-4 scale (3 = mastery) for three competencies, and a 1-5 habits
# scale (4 = mastery) for an efficacy competency, so bounds, thresholds and labels differ by
# target. Labels in English and Spanish.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    id: str
    levels: tuple[tuple[int, str, str], ...]  # value, English label, Spanish label
    mastery: int

    @property
    def low(self) -> float:
        return float(self.levels[0][0])

    @property
    def high(self) -> float:
        return float(self.levels[-1][0])


POINTS = Scale("points", ((0, "Not yet", "Aún no"), (1, "Beginning", "Inicial"),
                          (2, "Developing", "En desarrollo"), (3, "Proficient", "Competente"),
                          (4, "Advanced", "Avanzado")), 3)
HABITS = Scale("habits", ((1, "Rarely", "Casi nunca"), (2, "Sometimes", "A veces"),
                          (3, "Often", "A menudo"), (4, "Usually", "Habitualmente"),
                          (5, "Always", "Siempre")), 4)
COMPETENCIES: tuple[tuple[str, str, Scale, tuple[tuple[str, str], ...]], ...] = (
    ("ALG", "Algebra", POINTS, (("ALG.1", "Solve equations"), ("ALG.2", "Graph lines"),
                                ("ALG.3", "Model situations"))),
    ("GEO", "Geometry", POINTS, (("GEO.1", "Prove congruence"), ("GEO.2", "Use similarity"))),
    ("DAT", "Data", POINTS, (("DAT.1", "Summarise data"), ("DAT.2", "Reason about chance"))),
    ("HAB", "Habits of work", HABITS, (("HAB.1", "Meet deadlines"), ("HAB.2", "Collaborate"))),
)
TARGETS: dict[str, str] = {t: title for _, _, _, ts in COMPETENCIES for t, title in ts}
COMPETENCY_OF: dict[str, str] = {t: c for c, _, _, ts in COMPETENCIES for t, _ in ts}
COMPETENCY_OF.update({c: c for c, _, _, _ in COMPETENCIES})  # evidence may name a competency
SCALE_OF: dict[str, Scale] = {t: sc for c, _, sc, ts in COMPETENCIES for t in [c, *dict(ts)]}
GROUP_TITLE: dict[str, str] = {c: title for c, title, _, _ in COMPETENCIES}
ALIGNMENTS = {"ALG.1": "CCSS.MATH.HSA.REI.B.3", "GEO.2": "CCSS.MATH.HSG.SRT.B.5"}
TARGET_IDS = list(TARGETS)
UNKNOWN_IDS = ("ALG.9", "GEO.7", "HIST.1", "XYZ")
#: A wide column named like a target of the framework that is not one (a typo, a target from
#: last year): its scores are unknown targets.
WIDE_UNKNOWN = "GEO.9"

#: Reasons of rejects.csv that are problems (the rest are set aside: expected, not errors).
REJECTED = {"unknown-target", "score-off-scale", "non-numeric-score", "bad-date",
            "missing-student-id", "missing-target"}
SET_ASIDE = {"no-score", "duplicate-row", "excused", "missing", "type-excluded",
             "type-not-counted", "zero-weight", "before-window", "after-window"}


def framework_yaml() -> str:
    lines = ["kind: framework", "schema_version: 1", "id: oracle-school",
             "title: Oracle School", "languages: [en, es]", "default_scale: points", "scales:"]
    for scale in (POINTS, HABITS):
        lines += [f"  - id: {scale.id}", "    levels:"]
        for value, label, label_es in scale.levels:
            mastery = ", mastery: true" if value == scale.mastery else ""
            lines.append(f"      - {{value: {value}, label: {{en: {label}, es: {label_es}}}"
                         f"{mastery}}}")
    lines.append("competencies:")
    for comp, title, scale, targets in COMPETENCIES:
        lines += [f"  - id: {comp}", f"    title: {title}", f"    scale: {scale.id}",
                  f"    kind: {'efficacy' if scale is HABITS else 'academic'}", "    targets:"]
        for target, target_title in targets:
            lines += [f"      - id: {target}", f"        title: {target_title}",
                      f"        statement: {target_title}.",
                      f"        i_can: {{en: I can {target_title.lower()}., es: Puedo.}}"]
            if target in ALIGNMENTS:
                lines.append(f"        alignments: [{{code: {ALIGNMENTS[target]}}}]")
            lines.append("        indicators:")
            lines += [f'          "{value}": {label} work.' for value, label, _ in scale.levels]
    lines += ["courses:", "  - {id: MATH, title: Mathematics, credits: 1, "
              "competencies: [ALG, GEO, DAT, HAB]}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Running the command
# --------------------------------------------------------------------------------------------

SUMMARY = re.compile(r"(\d+) [a-z ]*read = (\d+) used \+ (\d+) set aside \+ (\d+) rejected")


@dataclass
class Run:
    output: str
    targets: list[dict[str, str]]
    rejects: list[dict[str, str]]
    out: Path


def run_grade(tmp_path: Path, files: Sequence[Path], *args: str, exit_code: int = 0,
              console: bool = False) -> Run:
    """`mastery grade FILES ARGS` through the typer app, or with ``console`` as the console
    script runs it (``mastery_cli.cli.main``, which takes grade's fast path)."""
    framework = tmp_path / "framework.yaml"
    framework.write_text(framework_yaml(), encoding="utf-8")
    out = tmp_path / "out"
    argv = ["grade", *map(str, files), "--framework", str(framework), "--out", str(out), *args]
    if console:
        done = subprocess.run([sys.executable, "-m", "mastery_cli", *argv], capture_output=True,
                              text=True, encoding="utf-8", check=False)
        code, output = done.returncode, done.stdout + done.stderr
    else:
        result = CliRunner().invoke(app, argv, env={"COLUMNS": "200"})
        code, output = result.exit_code, result.output
    assert code == exit_code, output
    return Run(output, read_csv_dicts(out / "target_grades.csv"),
               read_csv_dicts(out / "rejects.csv"), out)


def read_csv_dicts(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------------------------
# The oracle, part 1: reading the files (every format into "units" of evidence)
# --------------------------------------------------------------------------------------------


@dataclass
class Unit:
    """One unit of evidence as read: a record (long, mapped, Canvas results) or a non-blank
    score cell (wide, Canvas mastery gradebook)."""

    file: str
    row: int  # physical line (header = 1)
    seq: tuple[int, int]  # input order: file, then row
    student: str
    name: str
    target_text: str
    target: str | None  # the framework id it names, None when unknown
    cell: str
    when: datetime | None = None
    bad_date: bool = False
    kind: str = ""
    points: float | None = None  # Canvas "learning outcome points possible"
    decimal_comma: bool = False
    duplicate: bool = False


def records(path: Path) -> tuple[list[str], list[tuple[int, list[str]]], bool]:
    """Header, (physical line, cells) of each non-blank record, and whether the file uses
    decimal commas (a ';'-separated file)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    first = text.splitlines()[0]
    delimiter = max([",", ";", "\t"], key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader)
    rows: list[tuple[int, list[str]]] = []
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if any(c.strip() for c in cells):
            rows.append((start, cells))
    return header, rows, delimiter == ";"


def mark_duplicates(units: list[Unit], keys: list[tuple[str, ...]]) -> None:
    """An exact copy of an earlier record is a duplicate (the first copy is kept)."""
    seen: set[tuple[str, ...]] = set()
    for unit, key in zip(units, keys, strict=True):
        unit.duplicate = key in seen
        seen.add(key)


def parse_day(text: str, fmt: str | None = None) -> tuple[datetime | None, bool]:
    """(the date, is it bad): ISO or MM/DD/YYYY (README), or the policy's date_format."""
    text = text.strip()
    if not text:
        return None, False
    formats = [fmt] if fmt else ["%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%dT%H:%M:%S",
                                 "%Y-%m-%d %H:%M:%S UTC"]
    for candidate in formats:
        try:
            return datetime.strptime(text, candidate), False
        except ValueError:
            continue
    return None, True


def resolve_id(text: str) -> str | None:
    return text if text in COMPETENCY_OF else None


def resolve_canvas(text: str, outcome_id: str = "",
                   outcome_map: dict[str, str] | None = None) -> str | None:
    """Canvas outcomes match a target by the policy's outcome map (outcome name or id), or by
    target id, title or alignment code (README)."""
    for key in (text, outcome_id):
        if outcome_map and key in outcome_map:
            return outcome_map[key]
    if text in TARGETS:
        return text
    names = {**{title: t for t, title in TARGETS.items()}, **{c: t for t, c in ALIGNMENTS.items()}}
    return names.get(text)


def read_long(path: Path, index: int, columns: dict[str, str] | None = None,
              date_format: str | None = None) -> list[Unit]:
    """Our long format (headers case-insensitive, aliases), or a mapped export when
    ``columns`` (canonical name -> header) is given."""
    header, rows, comma = records(path)
    aliases = {"student_id": ["student_id", "student id"],
               "student_name": ["student_name", "student name"],
               "target": ["target", "standard", "outcome", "learning_target"],
               "score": ["score"], "date": ["date"], "type": ["type"]}
    if columns is not None:
        aliases = {k: [v.lower()] for k, v in columns.items()}
    where = {h.strip().lower(): i for i, h in enumerate(header)}
    col = {k: next((where[a] for a in names if a in where), -1) for k, names in aliases.items()}
    units: list[Unit] = []
    for line, cells in rows:
        def get(key: str, cells: list[str] = cells) -> str:
            return cells[col[key]] if col.get(key, -1) >= 0 else ""
        when, bad = parse_day(get("date"), date_format)
        units.append(Unit(path.name, line, (index, line), get("student_id").strip(),
                          get("student_name"), get("target"), resolve_id(get("target").strip()),
                          get("score"), when, bad, get("type").strip().lower(),
                          decimal_comma=comma))
    mark_duplicates(units, [tuple(c) for _, c in rows])
    return units


def read_wide(path: Path, index: int) -> list[Unit]:
    """One row per student x assessment, one column per target id; other columns are not
    evidence. A unit is a non-blank score cell."""
    header, rows, comma = records(path)
    where = {h.strip().lower(): i for i, h in enumerate(header)}
    units: list[Unit] = []
    keys: list[tuple[str, ...]] = []
    for line, cells in rows:
        when, bad = parse_day(cells[where["date"]])
        for i, head in enumerate(header):
            if head in (*TARGETS, WIDE_UNKNOWN) and cells[i].strip():
                units.append(Unit(path.name, line, (index, line), cells[where["student id"]],
                                  cells[where["student name"]], head, resolve_id(head), cells[i],
                                  when, bad, cells[where["type"]].lower(), decimal_comma=comma))
                keys.append((*cells, str(i)))
    mark_duplicates(units, keys)
    return units


def read_canvas_results(path: Path, index: int,
                        outcome_map: dict[str, str] | None = None) -> list[Unit]:
    """Canvas "Outcome Results": the SIS id is the student id unless it is N/A; outcome
    scores are rescaled from the outcome's points possible (32 columns) to the scale."""
    header, rows, comma = records(path)
    where = {h: i for i, h in enumerate(header)}
    pp = where.get("learning outcome points possible")
    units: list[Unit] = []
    for line, cells in rows:
        sis = cells[where["student sis id"]]
        student = cells[where["student id"]] if sis in ("", "N/A") else sis
        when, bad = parse_day(cells[where["submission date"]])
        name = cells[where["learning outcome name"]]
        points = float(cells[pp]) if pp is not None and cells[pp].strip() else None
        units.append(Unit(path.name, line, (index, line), student, cells[where["student name"]],
                          name, resolve_canvas(name, cells[where["learning outcome id"]],
                                               outcome_map),
                          cells[where["outcome score"]], when, bad,
                          cells[where["assessment type"]].lower(), points, comma))
    mark_duplicates(units, [tuple(c) for _, c in rows])
    return units


def read_canvas_lmgb(path: Path, index: int) -> list[Unit]:
    """Canvas Learning Mastery Gradebook: `<group > title> result` columns, one unit per
    non-blank result cell, undated."""
    header, rows, comma = records(path)
    where = {h.lower(): i for i, h in enumerate(header)}
    sis_at = where.get("student sis id")
    units: list[Unit] = []
    for line, cells in rows:
        sis = cells[sis_at] if sis_at is not None else "N/A"
        student = cells[where["student id"]] if sis in ("", "N/A") else sis
        for i, head in enumerate(header):
            if head.endswith(" result") and cells[i].strip():
                title = head[: -len(" result")].split(" > ")[-1]
                units.append(Unit(path.name, line, (index, line), student,
                                  cells[where["student name"]], title, resolve_canvas(title),
                                  cells[i], decimal_comma=comma))
    return units


# --------------------------------------------------------------------------------------------
# The oracle, part 2: cells, reasons, evidence order, methods, levels
# --------------------------------------------------------------------------------------------

NUMBER = re.compile(r"-?\d+(\.\d+)?")


def read_cell(unit: Unit) -> tuple[str, float | None]:
    """(status or reject reason, score) of a score cell, as the README describes them: on the
    scale of the unit's target."""
    scale = SCALE_OF.get(unit.target or "", POINTS)
    text = unit.cell.strip()
    if not text:
        return "no-score", None
    if text.upper() == "EX":
        return "excused", None
    if text.upper() == "M":
        return "missing", None
    for value, *labels in scale.levels:
        if text.casefold() in {label.casefold() for label in labels}:
            return "scored", float(value)
    number = text.replace(",", ".") if unit.decimal_comma else text
    if not NUMBER.fullmatch(number):
        return "non-numeric-score", None
    score = float(number)
    if unit.points is not None and unit.points > 0 and unit.points != scale.high:
        score = score * scale.high / unit.points  # [0, points possible] -> [0, scale max]
    if not scale.low <= score <= scale.high:
        return "score-off-scale", None
    return "scored", score


@dataclass
class Policy:
    method: str = "decaying_average"
    params: dict[str, float | int | str | bool] = field(default_factory=dict)
    min_evidence: int = 1
    places: int = 2
    exclude_types: tuple[str, ...] = ()
    count_types: tuple[str, ...] | None = None
    type_weights: dict[str, float] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    order_by: str = "date"
    undated: str = "last"
    missing_score: float | None = None  # None: missing work is ignored
    #: target or competency id -> (method, params, min_evidence or None)
    overrides: dict[str, tuple[str | None, dict[str, float | int | str | bool], int | None]] = (
        field(default_factory=dict))

    def for_target(self, target: str) -> tuple[str, dict[str, float | int | str | bool], int]:
        method, params, minimum = self.method, self.params, self.min_evidence
        for key in (COMPETENCY_OF[target], target):  # the target's own override wins
            if key in self.overrides:
                o_method, o_params, o_min = self.overrides[key]
                if o_method is not None:
                    method, params = o_method, o_params
                if o_min is not None:
                    minimum = o_min
        return method, params, minimum


DEFAULTS: dict[str, dict[str, float | int | str | bool]] = {
    "weighted_average": {"weight": 0.65},
    "decaying_average": {"weight": 0.65},
    "n_mastery": {"n": 5},
    "power_law": {"predict": "last", "min_scores": 3, "clamp": True, "zero_floor": 0.1},
    "mode": {"tie": "latest"},
    "mean_last_n": {"n": 3},
    "highest_last_n": {"n": 3},
    "mean_top_n": {"n": 3},
}


def method_result(method: str, given: dict[str, float | int | str | bool], s: list[float],
                  scale: Scale) -> tuple[str, float | None]:
    """(status, value) of a method on scores in evidence order: FIELD-NOTES section 2 and the
    README's table, one value at a time. Every method but the power law (logarithms) is worked
    in exact arithmetic on the decimals as typed, and gives a Fraction."""
    p = {**DEFAULTS.get(method, {}), **given}
    if method != "power_law":
        exact: list[Any] = [Fraction(repr(float(x))) for x in s]
        s = exact
    if method == "highest":
        return "ok", max(s)
    if method == "latest":
        return "ok", s[-1]
    if method == "average":
        return "ok", sum(s) / len(s)
    if method == "median":
        return "ok", statistics.median(s)
    if method == "weighted_average":
        w = Fraction(repr(float(p["weight"])))
        return "ok", s[0] if len(s) == 1 else s[-1] * w + sum(s[:-1]) / (len(s) - 1) * (1 - w)
    if method == "decaying_average":
        w = Fraction(repr(float(p["weight"])))
        d = s[0]
        for x in s[1:]:
            d = d * (1 - w) + x * w
        return "ok", d
    if method == "n_mastery":
        hits = [x for x in s if x >= scale.mastery]
        if len(hits) < int(p["n"]):
            return "insufficient-evidence", None
        return "ok", sum(hits) / len(hits)
    if method == "power_law":
        n = len(s)
        if n < int(p["min_scores"]):
            return "insufficient-evidence", None
        xs = [math.log(k) for k in range(1, n + 1)]
        ys = [math.log(x if x > 0 else float(p["zero_floor"])) for x in s]
        mx, my = sum(xs) / n, sum(ys) / n
        b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mx) ** 2 for x in xs)
        at = n if p["predict"] == "last" else n + 1
        value = math.exp(my - b * mx + b * math.log(at))
        if p["clamp"]:
            value = min(max(value, scale.low), scale.high)
        return "ok", value
    if method == "mode":
        counts = Counter(s)
        top = max(counts.values())
        tied = [v for v, c in counts.items() if c == top]
        if len(tied) == 1:
            return "ok", tied[0]
        if p["tie"] == "highest":
            return "ok", max(tied)
        if p["tie"] == "latest":
            return "ok", max(tied, key=lambda v: max(i for i, x in enumerate(s) if x == v))
        return "no-result", None
    n = int(p.get("n", 3))
    if method == "mean_last_n":
        return "ok", sum(s[-n:]) / len(s[-n:])
    if method == "highest_last_n":
        return "ok", max(s[-n:])
    if method == "mean_top_n":
        top_n = sorted(s)[-n:]
        return "ok", sum(top_n) / len(top_n)
    raise AssertionError(f"the oracle does not know {method}")


def round_text(value: float | Fraction, places: int) -> str:
    """Half away from zero (FIELD-NOTES: rounding): an exact value exactly, a float (the power
    law) on its shortest repr."""
    # A quotient to 28 digits: exact for a terminating decimal, and a ratio of small integers
    # that does not terminate lies far further than 1e-28 from any half step.
    exact = (Decimal(value.numerator) / Decimal(value.denominator)
             if isinstance(value, Fraction) else Decimal(repr(value)))
    return str(exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def either_way(value: float | Fraction, places: int, method: str) -> bool:
    """The power law's float oracle differs from the engine's in the last bits: a value within
    a hair of a half step could round either way. Every other method is exact: no slack."""
    if isinstance(value, Fraction):
        return False
    scaled = value * 10**places
    return abs(scaled - math.floor(scaled) - 0.5) < 1e-6


@dataclass
class Expected:
    name: str
    status: str
    value: float | None
    count: int
    last_date: str
    scores: list[float]


@dataclass
class Oracle:
    groups: dict[tuple[str, str], Expected]
    reasons: Counter[tuple[str, int, str]]
    read: int
    used: int
    set_aside: int
    rejected: int


def oracle(units: list[Unit], policy: Policy) -> Oracle:
    reasons: Counter[tuple[str, int, str]] = Counter()
    # (student, target) -> [(order key, score, date, type weight)] of its used evidence, and
    # the reasons of its set-aside rows
    used: dict[tuple[str, str], list[tuple[tuple[int, datetime, tuple[int, int]], float,
                                             datetime | None, float]]] = {}
    aside: dict[tuple[str, str], list[str]] = {}
    names: dict[str, str] = {}
    for unit in sorted(units, key=lambda u: u.seq):
        if unit.name and unit.student not in names:
            names[unit.student] = unit.name
        status, score = read_cell(unit)
        if status == "missing" and policy.missing_score is not None:
            status, score = "scored", policy.missing_score
        day = unit.when.date() if unit.when else None
        # Reader checks first (each generated row has at most one reader problem), then the
        # policy's reasons, the first that applies: excused, missing, type filters, window.
        if unit.duplicate:
            reason = "duplicate-row"
        elif status == "no-score":
            reason = status
        elif not unit.student:
            reason = "missing-student-id"
        elif not unit.target_text.strip():
            reason = "missing-target"
        elif unit.target is None:
            reason = "unknown-target"
        elif unit.bad_date:
            reason = "bad-date"
        elif status != "scored":  # a reader reject, excused or missing
            reason = status
        elif policy.count_types is not None and unit.kind not in policy.count_types:
            reason = "type-not-counted"
        elif unit.kind in policy.exclude_types:
            reason = "type-excluded"
        elif policy.type_weights.get(unit.kind, 1.0) == 0:
            reason = "zero-weight"
        elif day and policy.date_from and day < policy.date_from:
            reason = "before-window"
        elif day and policy.date_to and day > policy.date_to:
            reason = "after-window"
        else:
            reason = ""
        if reason in ("duplicate-row", "no-score", *REJECTED):
            reasons[(unit.file, unit.row, reason)] += 1
            continue
        assert unit.target is not None
        key = (unit.student, unit.target)
        used.setdefault(key, [])
        aside.setdefault(key, [])
        if reason:
            reasons[(unit.file, unit.row, reason)] += 1
            aside[key].append(reason)
        else:
            assert score is not None
            # Evidence order: by date, undated last (or first), ties in input order (file,
            # then row); or input order only.
            undated = 1 if policy.undated == "last" else -1
            order = (0, unit.when, unit.seq) if unit.when else (undated, datetime.min, unit.seq)
            if policy.order_by == "input":
                order = (0, datetime.min, unit.seq)
            used[key].append((order, score, unit.when, policy.type_weights.get(unit.kind, 1.0)))
    groups: dict[tuple[str, str], Expected] = {}
    for key, evidence in used.items():
        evidence.sort(key=lambda e: e[0])
        scores = [e[1] for e in evidence]
        weights = [e[3] for e in evidence]
        dates = [e[2] for e in evidence if e[2] is not None]
        last = max(dates).date().isoformat() if dates else ""
        method, params, minimum = policy.for_target(key[1])
        status, value = "ok", None
        if not scores:
            status = "excused" if all(r == "excused" for r in aside[key]) else (
                "insufficient-evidence")
        elif len(scores) < minimum:
            status = "insufficient-evidence"
        elif method == "average" and policy.type_weights:  # average honours type weights
            value = sum(x * w for x, w in zip(scores, weights, strict=True)) / sum(weights)
        else:
            status, value = method_result(method, params, scores, SCALE_OF[key[1]])
        groups[key] = Expected(names.get(key[0], ""), status, value, len(scores), last, scores)
    n_used = sum(len(e) for e in used.values())
    n_rejected = sum(c for (_, _, r), c in reasons.items() if r in REJECTED)
    n_aside = sum(c for (_, _, r), c in reasons.items() if r in SET_ASIDE)
    assert n_rejected + n_aside == sum(reasons.values())
    return Oracle(groups, reasons, len(units), n_used, n_aside, n_rejected)


def compare(run: Run, expected: Oracle, policy: Policy) -> None:
    problems: list[str] = []
    got = {(r["student_id"], r["target"]): r for r in run.targets}
    assert len(got) == len(run.targets), "one row per student x target"
    for key in sorted(set(got) ^ set(expected.groups)):
        problems.append(f"{key}: row {'missing' if key in expected.groups else 'unexpected'}"
                        + (f" (oracle: {expected.groups[key]})" if key in expected.groups else ""))
    for key in sorted(set(got) & set(expected.groups)):
        row, exp = got[key], expected.groups[key]
        where = f"{key} scores {exp.scores}"
        method = policy.for_target(key[1])[0]
        if row["method"].split("(")[0] != method:
            problems.append(f"{where}: method {row['method']!r}, expected {method}")
        if row["student_name"] != exp.name:
            problems.append(f"{where}: name {row['student_name']!r}, expected {exp.name!r}")
        if (row["status"], int(row["evidence_count"])) != (exp.status, exp.count):
            problems.append(f"{where}: status/count {row['status']}/{row['evidence_count']}, "
                            f"expected {exp.status}/{exp.count}")
            continue
        if row["last_evidence_date"] != exp.last_date:
            problems.append(f"{where}: last date {row['last_evidence_date']!r}, "
                            f"expected {exp.last_date!r}")
        if exp.value is None:
            if any(row[c] for c in ("score", "level", "label", "mastered")):
                problems.append(f"{where}: status {exp.status} but a score {row['score']!r}")
            continue
        text = round_text(exp.value, policy.places)
        close = abs(float(row["score"] or "nan") - exp.value) <= 0.5 * 10**-policy.places + 1e-9
        if row["score"] != text and not (either_way(exp.value, policy.places, method) and close):
            problems.append(f"{where}: score {row['score']!r}, expected {text} ({exp.value!r})")
            continue
        # The level is read from the score as written; by default a score reaches a level
        # when it is at least the level's value.
        scale = SCALE_OF[key[1]]
        shown = float(row["score"])
        level, label, _ = max((lv for lv in scale.levels if shown >= lv[0]),
                              default=scale.levels[0])
        want = (str(level), label, "true" if level >= scale.mastery else "false")
        if (row["level"], row["label"], row["mastered"]) != want:
            problems.append(f"{where}: level {row['level']}/{row['label']}/{row['mastered']}, "
                            f"expected {want}")
    ids = [r["student_id"] for r in run.targets]
    if ids != sorted(ids):
        problems.append("target_grades.csv is not sorted by student id")
    assert not problems, f"{len(problems)} disagreement(s):\n" + "\n".join(problems[:15])

    # Accounting: every unit read is used or in rejects.csv with its reason.
    listed = Counter((Path(r["file"]).name, int(r["row"]), r["reason"]) for r in run.rejects)
    assert listed == expected.reasons, (
        f"rejects.csv has {sorted((listed - expected.reasons).elements())} more and "
        f"{sorted((expected.reasons - listed).elements())} fewer than the oracle")
    assert sum(int(r["evidence_count"]) for r in run.targets) == expected.used
    match = SUMMARY.search(run.output)
    assert match, run.output
    assert tuple(map(int, match.groups())) == (
        expected.read, expected.used, expected.set_aside, expected.rejected), run.output
    assert expected.read == expected.used + expected.set_aside + expected.rejected


# --------------------------------------------------------------------------------------------
# Generating gradebooks
# --------------------------------------------------------------------------------------------

FIRST = ["Ana", "Bo", "Cy", "Dee", "Eli", "Fatima", "José", "Kai", "Lin", "Mo", "Noor", "Zoë"]
LAST = ["Rivera", "Chen", "Diaz", "Okafor", "García", "Müller", "Nguyen", "Smith", "Demir"]
TERM_START = date(2026, 9, 1)


@dataclass
class Student:
    sis: str  # text: leading zeros stay
    canvas: str
    name: str  # "Last, First"


def make_students(rng: random.Random, count: int) -> list[Student]:
    students: list[Student] = []
    sis_ids: set[str] = set()
    while len(students) < count:
        width = rng.choice([4, 4, 7, 3])
        sis = str(rng.randrange(1, 10 ** (width - 1))).zfill(width)  # leading zeros: 0012
        if sis in sis_ids:
            continue
        sis_ids.add(sis)
        name = f"{rng.choice(LAST)}, {rng.choice(FIRST)} {len(students)}"
        students.append(Student(sis, str(5000 + len(students)), name))
    return students


def draw_score(rng: random.Random, target: str, mu: float) -> float:
    """A score on the target's scale; ``mu`` (0-1) is where the student stands on it."""
    scale = SCALE_OF[target]
    if rng.random() < 0.1:
        return scale.low + rng.choice([0.5, 1.5, 2.5, 3.5, 2.25, 3.75])
    centre = scale.low + mu * (scale.high - scale.low)
    return float(min(scale.high, max(scale.low, round(rng.gauss(centre, 0.9)))))


def label_text(rng: random.Random, target: str, value: float) -> str:
    """A level label of the target's scale, in English or Spanish, in any case."""
    _, label, label_es = next(lv for lv in SCALE_OF[target].levels if lv[0] == value)
    label = rng.choice([label, label, label_es])
    return rng.choice([label, label.lower(), label.upper()])


def score_text(rng: random.Random, value: float, target: str, *, labels: bool = True,
               decimal_comma: bool = False) -> str:
    if labels and value.is_integer() and rng.random() < 0.12:
        return label_text(rng, target, value)
    text = str(int(value)) if value.is_integer() else repr(value)
    return text.replace(".", ",") if decimal_comma else text


def day_text(day: date | None, fmt: str = "%Y-%m-%d") -> str:
    return "" if day is None else day.strftime(fmt)


def write_rows(path: Path, header: list[str], rows: Iterable[list[str]], *,
               delimiter: str = ",", bom: bool = False, crlf: bool = False,
               encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(("\ufeff" if bom else "").encode() + buffer.getvalue().encode(encoding))
    return path


@dataclass
class Evidence:
    """A generated piece of evidence, before it is written in some format."""

    student: Student
    target: str
    cell: str
    day: date | None
    kind: str = "summative"
    bad_date: bool = False  # written with an impossible date


def make_evidence(rng: random.Random, students: list[Student], *, max_per_target: int = 9,
                  labels: bool = True, decimal_comma: bool = False, undated: float = 0.0,
                  formative: float = 0.0,
                  kinds: Sequence[str] = ("summative", "summative", "diagnostic"),
                  ) -> list[Evidence]:
    """Scored evidence for a random subset of targets per student, on a few shared days (so
    some evidence ties on its date), a share undated."""
    pieces: list[Evidence] = []
    for student in students:
        for target in rng.sample(TARGET_IDS, rng.randint(2, len(TARGET_IDS))):
            mu = rng.uniform(0.1, 0.97)
            days = [TERM_START + timedelta(days=rng.randrange(100)) for _ in range(5)]
            for _ in range(rng.choice([1, 1, 2, 3, 4, 5, 6, max_per_target])):
                day = None if rng.random() < undated else rng.choice(days)
                kind = "formative" if rng.random() < formative else rng.choice(kinds)
                value = draw_score(rng, target, mu)
                pieces.append(Evidence(student, target, score_text(
                    rng, value, target, labels=labels, decimal_comma=decimal_comma), day, kind))
    return pieces


def add_mess(rng: random.Random, pieces: list[Evidence], students: list[Student], *,
             bad_dates: bool = True, competency_ids: bool = True,
             decimal_comma: bool = False) -> None:
    """One problem per added row: blank, EX, M, unknown or blank target, no student id,
    off-scale, not a number; plus a student x target with nothing but excused work."""
    def some(cell: str, target: str | None = None) -> Evidence:
        day = TERM_START + timedelta(days=rng.randrange(100))
        target = rng.choice(TARGET_IDS) if target is None else target
        return Evidence(rng.choice(students), target, cell, day)

    for cell in ["", "", " ", "EX", "ex", "M", "5", "-1", "4,5" if decimal_comma else "4.5",
                 "12", "abc", "great job", "??"]:
        pieces.append(some(cell))
    for unknown in (*UNKNOWN_IDS, ""):
        pieces.append(some("3", unknown))
    pieces.append(some("2"))
    pieces[-1].student = Student("", "", "Nobody, Known")
    if competency_ids:
        pieces.append(some("2", "GEO"))
    if bad_dates:
        pieces.append(some("2"))
        pieces[-1].bad_date = True
    lonely = students[-1]
    for cell in ("EX", "EX"):
        pieces.append(Evidence(lonely, "DAT.2", cell, TERM_START + timedelta(days=3)))
    pieces[:] = [p for p in pieces if not (p.student is lonely and p.target == "DAT.2"
                                           and p.cell != "EX")]


def scored_on_scale(cell: str, target: str) -> bool:
    number = cell.strip().replace(",", ".")
    scale = SCALE_OF.get(target)
    return bool(scale and NUMBER.fullmatch(number) and scale.low <= float(number) <= scale.high)


def with_duplicates(rng: random.Random, rows: list[list[str]], *,
                    clean: Callable[[list[str]], bool], count: int = 2) -> list[list[str]]:
    """Exact copies of a few clean rows (nothing else wrong with them), each placed somewhere
    after its original."""
    rows = list(rows)
    for _ in range(count):
        at = rng.choice([i for i, r in enumerate(rows) if clean(r)])
        rows.insert(rng.randrange(at + 1, len(rows) + 1), list(rows[at]))
    return rows


def write_long(rng: random.Random, path: Path, pieces: list[Evidence], *,
               excel_eu: bool = False, excel_tab: bool = False) -> Path:
    header = [rng.choice(["student_id", "Student_ID", "STUDENT_ID", "Student ID"]),
              rng.choice(["student_name", "Student Name"]),
              rng.choice(["target", "standard", "Outcome", "learning_target"]),
              "assessment", rng.choice(["type", "Type"]), rng.choice(["date", "Date"]),
              rng.choice(["score", "Score"]), "comment"]
    rows: list[list[str]] = []
    for number, piece in enumerate(pieces, 1):
        # ISO dates, MM/DD/YYYY and ISO date-times (a time orders evidence within its day)
        date_cell = rng.choice([day_text(piece.day)] * 4 + [day_text(piece.day, "%m/%d/%Y")]
                               + [day_text(piece.day, f"%Y-%m-%dT{rng.randrange(7, 16):02}:"
                                                      f"{rng.randrange(60):02}:00")])
        if piece.bad_date:
            date_cell = "2026-13-45"
        comment = rng.choice(["", "", "", "retake", "Good work,\nkeep going"])
        rows.append([piece.student.sis, piece.student.name, piece.target, f"Task {number}",
                     piece.kind, date_cell, piece.cell, comment])
    rng.shuffle(rows)
    rows = with_duplicates(rng, rows, clean=lambda r: scored_on_scale(r[6], r[2])
                           and r[2] in TARGETS and r[0] != "" and not r[5].startswith("2026-13"))
    for at in (rng.randrange(len(rows)), len(rows)):  # Excel's all-blank rows: not records
        rows.insert(at, [""] * len(header))
    if excel_eu:
        return write_rows(path, header, rows, delimiter=";", bom=True, crlf=True)
    if excel_tab:
        return write_rows(path, header, rows, delimiter="\t", crlf=True, encoding="cp1252")
    return write_rows(path, header, rows)


def long_gradebook(rng: random.Random, path: Path, *, excel_eu: bool = False,
                   excel_tab: bool = False, formative: float = 0.0) -> Path:
    students = make_students(rng, rng.randint(5, 8))
    pieces = make_evidence(rng, students, decimal_comma=excel_eu, undated=0.06,
                           formative=formative)
    add_mess(rng, pieces, students, decimal_comma=excel_eu)
    return write_long(rng, path, pieces, excel_eu=excel_eu, excel_tab=excel_tab)


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------

Params = dict[str, float | int | str | bool]


def cli_args(method: str | None, params: Params) -> list[str]:
    args = ["--method", method] if method else []
    for key, value in params.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        args += ["--param", f"{key}={text}"]
    return args


def policy_of(method: str | None, params: Params) -> Policy:
    own = {k: v for k, v in params.items() if k not in ("min_evidence", "places")}
    return Policy(method=method or "decaying_average", params=own,
                  min_evidence=int(params.get("min_evidence", 1)),
                  places=int(params.get("places", 2)))


def seed_of(*parts: object) -> int:
    return zlib.crc32(repr(parts).encode())


METHOD_CASES: list[tuple[str, Params]] = [
    ("highest", {}),
    ("highest", {"min_evidence": 2}),
    ("latest", {}),
    ("latest", {"places": 1}),
    ("average", {}),
    ("average", {"min_evidence": 3, "places": 3}),
    ("median", {}),
    ("median", {"min_evidence": 2}),
    ("weighted_average", {}),
    ("weighted_average", {"weight": 0.3}),
    ("weighted_average", {"weight": 0.01, "places": 0}),
    ("decaying_average", {}),
    ("decaying_average", {"weight": 0.8, "min_evidence": 2}),
    ("decaying_average", {"weight": 0.5}),
    ("n_mastery", {}),
    ("n_mastery", {"n": 2}),
    ("n_mastery", {"n": 1, "places": 4}),
    ("power_law", {}),
    ("power_law", {"predict": "next"}),
    ("power_law", {"clamp": False, "zero_floor": 0.5}),
    ("power_law", {"min_scores": 2, "min_evidence": 4}),
    ("mode", {}),
    ("mode", {"tie": "highest"}),
    ("mode", {"tie": "none"}),
    ("mean_last_n", {}),
    ("mean_last_n", {"n": 2}),
    ("mean_last_n", {"n": 20}),
    ("highest_last_n", {}),
    ("highest_last_n", {"n": 1}),
    ("mean_top_n", {}),
    ("mean_top_n", {"n": 5, "min_evidence": 2}),
]


def case_id(method: str, params: Params) -> str:
    return "-".join([method, *(f"{k}={v}" for k, v in params.items())])


@pytest.mark.parametrize(("method", "params"), METHOD_CASES,
                         ids=[case_id(m, p) for m, p in METHOD_CASES])
def test_long_csv_every_method(tmp_path: Path, method: str, params: Params) -> None:
    rng = random.Random(seed_of("long", method, params))
    path = long_gradebook(rng, tmp_path / "scores.csv")
    run = run_grade(tmp_path, [path], *cli_args(method, params))
    policy = policy_of(method, params)
    compare(run, oracle(read_long(path, 0), policy), policy)


def test_long_csv_default_method(tmp_path: Path) -> None:
    # Without --policy and --method: a decaying average with weight 0.65 (README).
    rng = random.Random(seed_of("long-default"))
    path = long_gradebook(rng, tmp_path / "scores.csv")
    run = run_grade(tmp_path, [path])
    policy = Policy()
    compare(run, oracle(read_long(path, 0), policy), policy)
    assert {r["method"] for r in run.targets} == {"decaying_average(weight=0.65)"}


EXCEL_CASES: list[tuple[str, str, Params]] = [
    ("bom-semicolon-decimal-comma-crlf", "average", {}),
    ("bom-semicolon-decimal-comma-crlf", "mode", {"tie": "highest"}),
    ("bom-semicolon-decimal-comma-crlf", "decaying_average", {"weight": 0.75}),
    ("tab-windows-1252-crlf", "mean_top_n", {"n": 2}),
]


@pytest.mark.parametrize(("dialect", "method", "params"), EXCEL_CASES,
                         ids=[f"{d}-{case_id(m, p)}" for d, m, p in EXCEL_CASES])
def test_long_csv_excel_habits(tmp_path: Path, dialect: str, method: str,
                               params: Params) -> None:
    # README: "Excel habits are fine: UTF-8 BOM, ';' or tab separators, decimal commas, CRLF,
    # Windows-1252 (with a warning)".
    rng = random.Random(seed_of("excel", dialect, method, params))
    path = long_gradebook(rng, tmp_path / "export.csv", excel_eu=dialect.startswith("bom"),
                          excel_tab=dialect.startswith("tab"))
    run = run_grade(tmp_path, [path], *cli_args(method, params))
    policy = policy_of(method, params)
    compare(run, oracle(read_long(path, 0), policy), policy)


# --------------------------------------------------------------------------------------------
# Wide CSV: one row per student x assessment, one column per target
# --------------------------------------------------------------------------------------------


def valid_cell(cell: str, target: str) -> bool:
    labels = {label.casefold() for lv in SCALE_OF[target].levels for label in lv[1:]}
    return not cell.strip() or scored_on_scale(cell, target) or cell.strip().casefold() in labels


def wide_gradebook(rng: random.Random, path: Path, students: list[Student] | None = None, *,
                   days: Sequence[date] = ()) -> Path:
    students = students or make_students(rng, rng.randint(5, 7))
    days = list(days) or [TERM_START + timedelta(days=rng.randrange(100)) for _ in range(5)]
    assessments = [(f"Unit {i} check", rng.choice(days), rng.choice(["summative", "diagnostic"]))
                   for i in range(1, 9)]
    header = ["Student ID", "Student Name", "Assessment", "Date", "Type", *TARGET_IDS,
              WIDE_UNKNOWN, "Notes"]
    end = 5 + len(TARGET_IDS)  # the target columns are [5:end]
    rows: list[list[str]] = []
    for student in students:
        mu = {t: rng.uniform(0.1, 0.97) for t in TARGET_IDS}
        for title, day, kind in assessments:
            if rng.random() < 0.25:
                continue
            cells = [score_text(rng, draw_score(rng, t, mu[t]), t) if rng.random() < 0.5 else ""
                     for t in TARGET_IDS]
            unknown = rng.choice(["", "", "", "", "3", "2"])
            rows.append([student.sis, student.name, title, day_text(day, "%m/%d/%Y"), kind,
                         *cells, unknown,
                         rng.choice(["", "", "retake offered", "great, keep going"])])
    for cell in ["EX", "ex", "M", "5", "-1", "4.5", "0", "abc", "?", "label", "label"]:
        row, at = rng.choice(rows), rng.randrange(len(TARGET_IDS))
        target = TARGET_IDS[at]
        row[5 + at] = label_text(rng, target, SCALE_OF[target].mastery) if cell == "label" else cell
    lonely = students[-1]  # nothing but excused work on DAT.2
    for row in rows:
        if row[0] == lonely.sis:
            row[5 + TARGET_IDS.index("DAT.2")] = rng.choice(["", "EX"])
    rows.append([lonely.sis, lonely.name, "Make-up day", day_text(days[0], "%m/%d/%Y"),
                 "summative", *["EX" if t == "DAT.2" else "" for t in TARGET_IDS], "", ""])
    rows.append([students[0].sis, students[0].name, "Absent", day_text(days[1], "%m/%d/%Y"),
                 "summative", *[""] * len(TARGET_IDS), "", "no evidence at all"])
    rng.shuffle(rows)
    rows = with_duplicates(rng, rows, clean=lambda r: any(c.strip() for c in r[5:end]) and all(
        valid_cell(c, t) for c, t in zip(r[5:end], TARGET_IDS, strict=True)) and not r[end])
    return write_rows(path, header, rows)


WIDE_CASES: list[tuple[str, Params]] = [
    ("decaying_average", {"weight": 0.9}),
    ("latest", {"min_evidence": 2}),
    ("mean_last_n", {"n": 2}),
    ("mode", {"tie": "none"}),
    ("power_law", {"predict": "next", "min_scores": 2}),
]


@pytest.mark.parametrize(("method", "params"), WIDE_CASES,
                         ids=[case_id(m, p) for m, p in WIDE_CASES])
def test_wide_csv(tmp_path: Path, method: str, params: Params) -> None:
    rng = random.Random(seed_of("wide", method, params))
    path = wide_gradebook(rng, tmp_path / "wide.csv")
    run = run_grade(tmp_path, [path], *cli_args(method, params))
    policy = policy_of(method, params)
    compare(run, oracle(read_wide(path, 0), policy), policy)


# --------------------------------------------------------------------------------------------
# Canvas "Outcome Results" (32 or the older 17 columns)
# --------------------------------------------------------------------------------------------

CANVAS_COLUMNS = [
    "student name", "student id", "student sis id", "assessment title", "assessment id",
    "assessment type", "submission date", "submission score", "learning outcome name",
    "learning outcome id", "attempt", "outcome score", "assessment question",
    "assessment question id", "course name", "course id", "course sis id", "section name",
    "section id", "section sis id", "assignment url", "learning outcome friendly name",
    "learning outcome points possible", "learning outcome mastery score",
    "learning outcome mastered", "learning outcome rating", "learning outcome rating points",
    "learning outcome group title", "learning outcome group id", "account id", "account name",
    "enrollment state",
]
#: Points possible per outcome in Canvas: 4 is the scale (no rescaling), the others rescale.
OUTCOME_POINTS = {"ALG.1": 5, "ALG.2": 4, "ALG.3": 10, "GEO.1": 3, "GEO.2": 4, "DAT.1": 5,
                  "DAT.2": 8, "HAB.1": 5, "HAB.2": 10}
#: Outcomes Canvas has that the framework does not: name -> Canvas outcome id.
CANVAS_UNKNOWN = {"Retired outcome": "9997", "Vendor thing": "9998", "Old proof outcome": "9999"}


def points_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def canvas_results(rng: random.Random, path: Path, students: list[Student] | None = None, *,
                   columns: int = 32) -> Path:
    students = students or make_students(rng, rng.randint(5, 7))
    no_sis = {s.sis for s in rng.sample(students, 2)}  # Canvas shows N/A: its own id is used
    stamps = [datetime(2026, 9, 7, 15, 10) + timedelta(days=rng.randrange(90),
                                                       minutes=rng.randrange(600))
              for _ in range(6)]
    stamps.append(stamps[2])  # a retake submitted at the same second
    assessments = [(f"Quiz {i}", str(700 + i), rng.choice(["quiz", "assignment"]), stamp)
                   for i, stamp in enumerate(stamps, 1)]
    rows: list[list[str]] = []

    def add(student: Student, assessment: tuple[str, str, str, datetime], outcome: str,
            target: str | None, score: str) -> None:
        title, aid, kind, stamp = assessment
        points = OUTCOME_POINTS.get(target or "", 4)
        comp = COMPETENCY_OF.get(target or "", "ALG")
        outcome_id = (str(9000 + TARGET_IDS.index(target)) if target in TARGETS
                      else CANVAS_UNKNOWN[outcome])
        full = [student.name, student.canvas, "N/A" if student.sis in no_sis else student.sis,
                title, aid, kind, stamp.strftime("%Y-%m-%d %H:%M:%S UTC"), score, outcome,
                outcome_id, "1", score,
                "", "", "Mathematics", "42", "MATH-2026", "Math P2", "88", "MATH-2026-P2",
                f"https://school.instructure.com/courses/42/assignments/{aid}", "",
                str(points), "3", "", "", "", GROUP_TITLE[comp], "300", "1", "Oracle School",
                "active"]
        rows.append(full[:columns])

    for student in students:
        mu = {t: rng.uniform(0.1, 0.97) for t in TARGET_IDS}
        for assessment in assessments:
            for target in rng.sample(TARGET_IDS, rng.randint(0, 3)):
                high = SCALE_OF[target].high
                points = OUTCOME_POINTS[target] if columns == 32 else high
                value = draw_score(rng, target, mu[target]) * points / high
                if rng.random() < 0.5:  # Canvas often has whole points
                    value = float(round(value))
                # by id, by title or by alignment code
                outcome = rng.choice([target, TARGETS[target], ALIGNMENTS.get(target, target)])
                add(student, assessment, outcome, target, points_text(value))
    messy: list[tuple[str | None, str]] = [
        ("ALG.1", ""), ("GEO.2", ""), ("ALG.3", "11" if columns == 32 else "4.25"),
        ("GEO.1", "3.5"), ("HAB.2", "0.5"), (None, "3"), (None, "1"), (None, "2"), (None, "4")]
    for messy_target, score in messy:  # blank, off the scale (after rescaling), unknown
        outcome = TARGETS[messy_target] if messy_target else rng.choice(list(CANVAS_UNKNOWN))
        add(rng.choice(students), rng.choice(assessments), outcome, messy_target, score)
    rng.shuffle(rows)
    return write_rows(path, CANVAS_COLUMNS[:columns], rows)


CANVAS_CASES: list[tuple[int, str, Params]] = [
    (32, "average", {}),
    (32, "decaying_average", {"weight": 0.5}),
    (32, "highest_last_n", {"n": 2}),
    (32, "n_mastery", {"n": 1}),
    (17, "weighted_average", {"weight": 0.75}),
    (17, "median", {"min_evidence": 2}),
]


@pytest.mark.parametrize(("columns", "method", "params"), CANVAS_CASES,
                         ids=[f"{c}cols-{case_id(m, p)}" for c, m, p in CANVAS_CASES])
def test_canvas_outcome_results(tmp_path: Path, columns: int, method: str,
                                params: Params) -> None:
    rng = random.Random(seed_of("canvas-results", columns, method, params))
    path = canvas_results(rng, tmp_path / "outcome_results.csv", columns=columns)
    run = run_grade(tmp_path, [path], *cli_args(method, params))
    policy = policy_of(method, params)
    compare(run, oracle(read_canvas_results(path, 0), policy), policy)


def test_canvas_outcome_results_with_an_outcome_map(tmp_path: Path) -> None:
    # The policy's input.outcome_map maps Canvas outcome names or ids to targets (README).
    rng = random.Random(seed_of("canvas-outcome-map"))
    path = canvas_results(rng, tmp_path / "outcome_results.csv")
    outcome_map = {CANVAS_UNKNOWN["Vendor thing"]: "DAT.1", "Old proof outcome": "GEO.1"}
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(
        "kind: policy\nschema_version: 1\nid: canvas-map\nmethod: {name: highest_last_n, n: 2}\n"
        "input:\n  outcome_map:\n"
        + "".join(f'    "{k}": {v}\n' for k, v in outcome_map.items()), encoding="utf-8")
    run = run_grade(tmp_path, [path], "--policy", str(policy_file))
    policy = Policy(method="highest_last_n", params={"n": 2})
    units = read_canvas_results(path, 0, outcome_map)
    assert {u.target for u in units if u.target_text in CANVAS_UNKNOWN} - {None}, "map unused"
    compare(run, oracle(units, policy), policy)


# --------------------------------------------------------------------------------------------
# Canvas Learning Mastery Gradebook (outcome_rollups.csv): one piece of evidence per cell
# --------------------------------------------------------------------------------------------


def canvas_lmgb(rng: random.Random, path: Path, students: list[Student], *, sis: bool = True,
                excel_eu: bool = False) -> Path:
    targets_here = rng.sample(TARGET_IDS, rng.randint(4, len(TARGET_IDS)))
    targets_here.insert(rng.randrange(len(targets_here) + 1), "")  # not in the framework
    paths = [f"{GROUP_TITLE[COMPETENCY_OF[t]]} > {rng.choice([TARGETS[t], t])}" if t
             else "Data > Retired outcome" for t in targets_here]
    header = ["Student name", "Student ID", *(["Student SIS ID"] if sis else [])]
    for outcome in paths:
        header += [f"{outcome} result", f"{outcome} mastery points"]
    no_sis = {s.sis for s in rng.sample(students, 2)}
    rows: list[list[str]] = []
    for student in students:
        row = [student.name, student.canvas]
        if sis:
            row.append("N/A" if student.sis in no_sis else student.sis)
        for target in targets_here:
            scale = SCALE_OF.get(target, POINTS)
            value = f"{rng.uniform(scale.low, scale.high):.2f}".rstrip("0").rstrip(".")
            value = "" if rng.random() < 0.3 else value
            row += [value.replace(".", ",") if excel_eu else value, str(scale.mastery)]
        rows.append(row)
    off = rng.choice(rows)  # a roll-up above the scale's top
    off[len(header) - 2] = "5,5" if excel_eu else "5.5"
    if excel_eu:
        return write_rows(path, header, rows, delimiter=";", bom=True)
    return write_rows(path, header, rows)


LMGB_CASES: list[tuple[str, Params]] = [
    ("latest", {}),
    ("average", {"places": 1}),
    ("mode", {"tie": "none"}),
    ("highest", {"min_evidence": 2}),
]


@pytest.mark.parametrize(("method", "params"), LMGB_CASES,
                         ids=[case_id(m, p) for m, p in LMGB_CASES])
def test_canvas_mastery_gradebook(tmp_path: Path, method: str, params: Params) -> None:
    # Three exports of the same students: two courses' current exports (one with European
    # settings) and an older export without the SIS column. Undated: input order decides.
    rng = random.Random(seed_of("lmgb", method, params))
    students = make_students(rng, 6)
    files = [canvas_lmgb(rng, tmp_path / "rollups_a.csv", students),
             canvas_lmgb(rng, tmp_path / "rollups_b.csv", students, excel_eu=True),
             canvas_lmgb(rng, tmp_path / "rollups_old.csv", students[:3], sis=False)]
    run = run_grade(tmp_path, files, *cli_args(method, params))
    policy = policy_of(method, params)
    units = [u for i, f in enumerate(files) for u in read_canvas_lmgb(f, i)]
    compare(run, oracle(units, policy), policy)


# --------------------------------------------------------------------------------------------
# Any other export, read through the policy's column mapping (README: `input: {columns: ...}`)
# --------------------------------------------------------------------------------------------

POWERSCHOOL = {"student_id": "Student_Number", "student_name": "LastFirst",
               "target": "Standard Identifier", "score": "Standard Score",
               "date": "Score Entry Date", "assessment": "Assignment Name", "type": "Category"}


def mapped_gradebook(rng: random.Random, path: Path) -> Path:
    students = make_students(rng, rng.randint(5, 8))
    pieces = make_evidence(rng, students, formative=0.2, max_per_target=10, undated=0.1,
                           kinds=("summative", "summative", "diagnostic", "practice"))
    add_mess(rng, pieces, students, bad_dates=False)
    header = ["Section", *POWERSCHOOL.values(), "Teacher Comment"]
    rows = [["P3", p.student.sis, p.student.name, p.target, p.cell, day_text(p.day, "%m/%d/%Y"),
             f"Task {i}", p.kind.capitalize(), rng.choice(["", "Nice work", "See me"])]
            for i, p in enumerate(pieces, 1)]
    rng.shuffle(rows)
    rows = with_duplicates(rng, rows, clean=lambda r: scored_on_scale(r[4], r[3]) and r[1] != "")
    return write_rows(path, header, rows)


MAPPED_POLICIES: list[tuple[str, Policy]] = [
    ("n_mastery-overrides-undated-first", Policy(
        method="n_mastery", params={"n": 2}, min_evidence=1, exclude_types=("formative",),
        undated="first",
        overrides={"GEO": ("mode", {"tie": "highest"}, 2),
                   "GEO.2": ("power_law", {"predict": "next"}, None),
                   "DAT.1": (None, {}, 3)})),
    ("weighted_average-places-1-input-order", Policy(
        method="weighted_average", params={"weight": 0.4}, min_evidence=2, places=1,
        exclude_types=("formative", "diagnostic"), order_by="input",
        overrides={"ALG.3": ("mean_top_n", {"n": 2}, None)})),
    ("average-type-weights-window-missing-scored", Policy(
        method="average", count_types=("summative", "diagnostic", "formative"),
        type_weights={"summative": 2.0, "diagnostic": 0.5, "formative": 0.0},
        date_from=date(2026, 9, 20), date_to=date(2026, 11, 30), missing_score=1.0,
        overrides={"DAT": ("latest", {}, None), "ALG.2": ("decaying_average", {}, 2)})),
]


def policy_yaml(policy: Policy) -> str:
    def method(name: str, params: Params) -> str:
        inner = ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}"
                          for k, v in {"name": name, **params}.items())
        return f"{{{inner}}}"

    lines = ["kind: policy", "schema_version: 1", "id: oracle-mapped", "framework: oracle-school",
             f"method: {method(policy.method, policy.params)}"]
    lines += ["overrides:"] if policy.overrides else []
    for key, (name, params, minimum) in policy.overrides.items():
        parts = ([f"method: {method(name, params)}"] if name else []) + (
            [f"min_evidence: {minimum}"] if minimum is not None else [])
        lines.append(f"  {key}: {{{', '.join(parts)}}}")
    evidence = [f"exclude_types: [{', '.join(policy.exclude_types)}]"]
    if policy.count_types is not None:
        evidence.append(f"count_types: [{', '.join(policy.count_types)}]")
    if policy.type_weights:
        weights = ", ".join(f"{k}: {v}" for k, v in policy.type_weights.items())
        evidence.append(f"type_weights: {{{weights}}}")
    for key, day in (("from", policy.date_from), ("to", policy.date_to)):
        if day:
            evidence.append(f'{key}: "{day.isoformat()}"')
    missing = "ignore" if policy.missing_score is None else f"{{score: {policy.missing_score}}}"
    lines += [f"min_evidence: {policy.min_evidence}", f"rounding: {{places: {policy.places}}}",
              f"evidence: {{{', '.join(evidence)}}}", f"order_by: {policy.order_by}",
              f"undated: {policy.undated}", f"missing: {missing}", "input:",
              "  format: mapped", '  date_format: "%m/%d/%Y"', "  columns:"]
    lines += [f'    {key}: "{header}"' for key, header in POWERSCHOOL.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("name", "policy"), MAPPED_POLICIES, ids=[n for n, _ in MAPPED_POLICIES])
def test_mapped_export_with_a_policy(tmp_path: Path, name: str, policy: Policy) -> None:
    rng = random.Random(seed_of("mapped", name))
    path = mapped_gradebook(rng, tmp_path / "powerschool.csv")
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(policy_yaml(policy), encoding="utf-8")
    run = run_grade(tmp_path, [path], "--policy", str(policy_file))
    units = read_long(path, 0, columns=POWERSCHOOL, date_format="%m/%d/%Y")
    compare(run, oracle(units, policy), policy)


# --------------------------------------------------------------------------------------------
# Several files in one run: ties on a date go by file, then row
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("console", [False, True], ids=["typer", "console-script"])
def test_long_wide_and_canvas_together(tmp_path: Path, console: bool) -> None:
    rng = random.Random(seed_of("mixed"))
    students = make_students(rng, 6)
    days = [TERM_START + timedelta(days=rng.randrange(100)) for _ in range(4)]
    pieces = [p for p in make_evidence(rng, students, undated=0.1)]
    for piece in pieces:  # the previous school assessed on the same days as this one
        piece.day = rng.choice(days) if piece.day else None
    add_mess(rng, pieces, students)
    files = [write_long(rng, tmp_path / "transfer.csv", pieces),
             wide_gradebook(rng, tmp_path / "wide.csv", students, days=days),
             canvas_results(rng, tmp_path / "canvas.csv", students)]
    params: Params = {"weight": 0.7, "min_evidence": 2}
    run = run_grade(tmp_path, files, *cli_args("decaying_average", params), "--format", "json",
                    console=console)
    policy = policy_of("decaying_average", params)
    units = read_long(files[0], 0) + read_wide(files[1], 1) + read_canvas_results(files[2], 2)
    expected = oracle(units, policy)
    compare(run, expected, policy)
    counts = json.loads((run.out / "grades.json").read_text(encoding="utf-8"))["counts"]
    assert (counts["rows_read"], counts["used"], counts["set_aside"], counts["rejected"]) == (
        expected.read, expected.used, expected.set_aside, expected.rejected)


def test_keep_duplicates_and_strict(tmp_path: Path) -> None:
    # --keep-duplicates counts each copy as evidence; --strict writes the same files, then
    # exits 1 because rows were rejected (README).
    rng = random.Random(seed_of("keep-duplicates"))
    path = long_gradebook(rng, tmp_path / "scores.csv")
    run = run_grade(tmp_path, [path], "--method", "average", "--keep-duplicates", "--strict",
                    exit_code=1)
    units = read_long(path, 0)
    assert sum(u.duplicate for u in units) == 2
    for unit in units:
        unit.duplicate = False
    policy = Policy(method="average")
    compare(run, oracle(units, policy), policy)


def test_long_csv_large_file(tmp_path: Path) -> None:
    # Some 40,000 records (3 MB): the reader parses in blocks; quoted line breaks, CRLF and
    # line numbers must survive block boundaries.
    rng = random.Random(seed_of("large"))
    students = make_students(rng, 2000)
    pieces = make_evidence(rng, students, undated=0.05)
    add_mess(rng, pieces, students)
    path = write_long(rng, tmp_path / "large.csv", pieces, excel_eu=True)
    params: Params = {"n": 4, "min_evidence": 2}
    run = run_grade(tmp_path, [path], *cli_args("mean_last_n", params))
    policy = policy_of("mean_last_n", params)
    compare(run, oracle(read_long(path, 0), policy), policy)
