"""Calculation methods: one mastery result per group (student × learning target), vectorised.

Every method is written as whole-column operations (sorts, segment reductions with
``ufunc.reduceat``, gathers by group index) and never loops over groups or students in Python,
so ten million evidence rows take seconds, and each step maps onto a dataframe or SQL engine
(window functions, group-by aggregates) if the work ever moves there.

Method names and parameter ranges follow Canvas where Canvas has the method, with one trap
spelled out: Canvas's ``decaying_average`` is the *legacy* formula, called ``weighted_average``
here, and Canvas's ``standard_decaying_average`` is our ``decaying_average``. Use
:func:`from_canvas` to read a Canvas ``calculation_method``/``calculation_int`` pair.

Nothing is rounded here: results are full-precision floats and rounding happens at output
(:mod:`mastery_cli.grading.rounding`). Where a method cannot give a result the value is NaN and
the status says why; a missing result is never a zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
import numpy.typing as npt

from mastery_cli.diagnostics import shortened
from mastery_cli.suggest import closest

if TYPE_CHECKING:  # pandas costs ~0.5 s to import; only Result.to_frame needs it
    import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
StatusArray = npt.NDArray[np.int8]
ParamValue = float | int | str | bool

STATUS_OK: Final = 0
#: Too little evidence for the method (n_mastery before N scores reach mastery, power law below
#: its minimum, an average whose evidence all has weight 0).
STATUS_INSUFFICIENT: Final = 1
#: Evidence is there but the rule gives no single answer (mode tie with ``tie="none"``): the
#: teacher decides.
STATUS_NO_RESULT: Final = 2
#: Text for each status code, indexed by code.
STATUS_LABELS: Final = ("ok", "insufficient-evidence", "no-result")


# --------------------------------------------------------------------------------------------
# Method catalogue
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamInfo:
    """One parameter of a method: its type, default and allowed values (inclusive range)."""

    name: str
    kind: Literal["float", "int", "bool", "choice"]
    default: ParamValue
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        """The allowed values in words, as used in error messages and docs."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of: " + ", ".join(self.choices)
        whole = "a whole number " if self.kind == "int" else ""
        return f"{whole}between {_num(self.minimum)} and {_num(self.maximum)}"


@dataclass(frozen=True)
class MethodInfo:
    """What a method is called, what it does in plain words, and which parameters it takes.

    ``description`` explains the method to a family without parameters; ``sentence`` is a
    one-sentence template for report cards that :func:`describe` fills in with the parameters.
    ``uses_weights`` says whether per-row evidence weights change the result.
    """

    name: str
    title: str
    description: str
    sentence: str
    params: tuple[ParamInfo, ...] = ()
    uses_weights: bool = False

    def param(self, name: str) -> ParamInfo:
        for info in self.params:
            if info.name == name:
                return info
        raise KeyError(name)


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


_N_RECENT_MAX = 20

_METHOD_LIST: tuple[MethodInfo, ...] = (
    MethodInfo(
        "highest",
        "Highest score",
        "The best score so far counts: a student's strongest demonstration of the skill.",
        "the highest score so far, so the best demonstration of the skill counts",
    ),
    MethodInfo(
        "latest",
        "Most recent score",
        "The most recent score counts: newer evidence replaces older evidence.",
        "the most recent score, so the latest evidence replaces earlier evidence",
    ),
    MethodInfo(
        "average",
        "Average",
        "The average (mean) of all scores. If kinds of work carry weights, heavier work counts "
        "more in the average.",
        "the average of all scores, with work that carries more weight counting more",
        uses_weights=True,
    ),
    MethodInfo(
        "median",
        "Median",
        "The middle score when all scores are put in order (with an even number of scores, "
        "halfway between the two middle ones), so one unusual score does not pull it.",
        "the middle score when all scores are put in order",
    ),
    MethodInfo(
        "weighted_average",
        "Weighted average",
        "The most recent score counts a fixed share and the average of all earlier scores the "
        "rest (Canvas calls this the legacy decaying average).",
        "a weighted average: the most recent score counts {weight_pct} and the average of all "
        "earlier scores {rest_pct}",
        (
            ParamInfo(
                "weight",
                "float",
                0.65,
                "share of the most recent score",
                minimum=0.01,
                maximum=0.99,
            ),
        ),
    ),
    MethodInfo(
        "decaying_average",
        "Decaying average",
        "Each new score counts a fixed share and everything before it the rest, so older scores "
        "fade step by step and recent work weighs most.",
        "a decaying average: each new score counts {weight_pct} and all earlier scores together "
        "{rest_pct}, so recent work weighs most",
        (
            ParamInfo(
                "weight", "float", 0.65, "share of each new score", minimum=0.50, maximum=0.99
            ),
        ),
    ),
    MethodInfo(
        "n_mastery",
        "Mastery shown N times",
        "There is no result until the student has reached the mastery level a set number of "
        "times; then the result is the average of all scores at or above the mastery level.",
        "mastery shown {n} times: once {n_scores} reach {threshold}, the result is the average "
        "of all scores at or above {threshold}; until then there is no result",
        (
            ParamInfo(
                "n",
                "int",
                5,
                "how many scores must reach the mastery level",
                minimum=1,
                maximum=10,
            ),
        ),
    ),
    MethodInfo(
        "power_law",
        "Learning trend (power law)",
        "A smooth learning curve is fitted through all scores in the order they were earned and "
        "read off at the latest (or next) assessment, so steady growth shows even before the "
        "student scores that high on a single task.",
        "a learning trend: a smooth curve fitted through all scores in order, read {predict_at}; "
        "it needs at least {min_scores_text}{clamp_text}",
        (
            ParamInfo(
                "predict",
                "choice",
                "last",
                "read the curve at the last assessment or the next",
                choices=("last", "next"),
            ),
            ParamInfo("min_scores", "int", 3, "fewer scores give no result", minimum=2, maximum=20),
            ParamInfo("clamp", "bool", True, "keep the result within the scale"),
            ParamInfo(
                "zero_floor",
                "float",
                0.1,
                "scores of 0 or less are replaced by this before taking logarithms",
                minimum=0.001,
                maximum=1.0,
            ),
        ),
    ),
    MethodInfo(
        "mode",
        "Most frequent score",
        "The score the student earned most often.",
        "the most frequent score; {tie_text}",
        (
            ParamInfo(
                "tie",
                "choice",
                "latest",
                "equally frequent scores: the most recent, the highest, or no result",
                choices=("latest", "highest", "none"),
            ),
        ),
    ),
    MethodInfo(
        "mean_last_n",
        "Average of the most recent scores",
        "The average of the few most recent scores (all of them while there are fewer).",
        "the average of the last {n_scores} (all scores while there are fewer)",
        (ParamInfo("n", "int", 3, "how many recent scores", minimum=1, maximum=_N_RECENT_MAX),),
    ),
    MethodInfo(
        "highest_last_n",
        "Highest of the most recent scores",
        "The best of the few most recent scores (of all of them while there are fewer).",
        "the highest of the last {n_scores}",
        (ParamInfo("n", "int", 3, "how many recent scores", minimum=1, maximum=_N_RECENT_MAX),),
    ),
    MethodInfo(
        "mean_top_n",
        "Average of the highest scores",
        "The average of the few highest scores (of all of them while there are fewer).",
        "the average of the {n_highest}",
        (ParamInfo("n", "int", 3, "how many top scores", minimum=1, maximum=_N_RECENT_MAX),),
    ),
)

#: Every method by name, in the order docs list them.
METHODS: Mapping[str, MethodInfo] = MappingProxyType({m.name: m for m in _METHOD_LIST})

#: Canvas ``calculation_method`` -> our method (note the two "decaying" names).
CANVAS_METHODS: Mapping[str, str] = MappingProxyType(
    {
        "highest": "highest",
        "latest": "latest",
        "average": "average",
        "decaying_average": "weighted_average",
        "weighted_average": "weighted_average",
        "standard_decaying_average": "decaying_average",
        "n_mastery": "n_mastery",
    }
)


@dataclass(frozen=True)
class MethodSpec:
    """A method with validated parameters, every default filled in. Build it with
    :func:`validate_params` (or :func:`from_canvas`)."""

    name: str
    params: Mapping[str, ParamValue]

    @property
    def info(self) -> MethodInfo:
        return METHODS[self.name]


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

_TRUE_FALSE = {"true": True, "false": False}  # the YAML 1.2 core spellings


def _did_you_mean(word: str, options: list[str]) -> str:
    close = closest(word, options)
    return f"; did you mean {close[0]!r}?" if close else ""


def _coerce(info: ParamInfo, raw: object) -> tuple[ParamValue | None, str | None]:
    """The parameter value in its proper type, or a message naming what is allowed."""
    got = f"(got {shortened(raw) if isinstance(raw, str) else raw!r})"
    bad = f"{info.name} must be {info.allowed()} {got}"
    if info.kind == "bool":
        if isinstance(raw, bool | np.bool_):
            return bool(raw), None
        if isinstance(raw, str) and raw.strip().lower() in _TRUE_FALSE:
            return _TRUE_FALSE[raw.strip().lower()], None
        return None, bad
    if info.kind == "choice":
        text = raw.strip().lower() if isinstance(raw, str) else None
        if text in info.choices:
            return text, None
        hint = _did_you_mean(text, list(info.choices)) if text else ""
        return None, bad + hint
    # numbers: accept numeric text too, because command-line options arrive as strings
    if isinstance(raw, bool | np.bool_):
        return None, bad
    number: float
    if isinstance(raw, int | float | np.integer | np.floating):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw.strip())
        except ValueError:
            return None, bad
    else:
        return None, bad
    if not math.isfinite(number):
        return None, bad
    if info.kind == "int" and not number.is_integer():
        return None, bad
    lo = info.minimum if info.minimum is not None else -math.inf
    hi = info.maximum if info.maximum is not None else math.inf
    if not lo <= number <= hi:
        percent = number.is_integer() and lo <= number / 100 <= hi
        if info.kind == "float" and hi <= 1 and percent:
            # Canvas stores these shares as whole percentages (calculation_int 65)
            return None, f"{bad}; it is a share, not a percentage: did you mean {number / 100:g}?"
        return None, bad
    return (int(number) if info.kind == "int" else number), None


def validate_params(
    name: str, params: Mapping[str, object] | None = None
) -> tuple[MethodSpec | None, list[str]]:
    """Check a method name and its parameters; fill in defaults.

    Returns ``(spec, [])`` when everything is valid, else ``(None, problems)`` with one readable
    message per problem, e.g. ``"weight must be between 0.01 and 0.99 (got 1.5)"``. Names are
    matched case-insensitively with ``-`` or space read as ``_``.
    """
    key = name.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(name, str) else ""
    info = METHODS.get(key)
    if info is None:
        known = list(METHODS)
        message = f"unknown calculation method {name!r}{_did_you_mean(key, known)}"
        if key in CANVAS_METHODS:  # only the legacy/standard decaying names land here
            message = (
                f"{name!r} is a Canvas name; here it is {CANVAS_METHODS[key]!r} "
                "(use from_canvas to read Canvas settings)"
            )
        return None, [f"{message} (known methods: {', '.join(known)})"]

    problems: list[str] = []
    given = dict(params or {})
    allowed = [p.name for p in info.params]
    for unknown in sorted(set(given) - set(allowed), key=str):
        if allowed:
            problems.append(
                f"unknown parameter {unknown!r} for {info.name}"
                f"{_did_you_mean(str(unknown), allowed)} (allowed: {', '.join(allowed)})"
            )
        else:
            problems.append(f"{info.name} takes no parameters (got {unknown!r})")
    values: dict[str, ParamValue] = {}
    for param in info.params:
        if param.name not in given:
            values[param.name] = param.default
            continue
        value, problem = _coerce(param, given[param.name])
        if problem is not None:
            problems.append(problem)
        elif value is not None:
            values[param.name] = value
    if problems:
        return None, problems
    return MethodSpec(info.name, MappingProxyType(values)), []


def from_canvas(
    calculation_method: str, calculation_int: int | None = None
) -> tuple[MethodSpec | None, list[str]]:
    """Read Canvas's ``calculation_method`` and ``calculation_int`` (a percentage for the two
    decaying methods, N for ``n_mastery``; blank means Canvas's default)."""
    key = calculation_method.strip().lower()
    name = CANVAS_METHODS.get(key)
    if name is None:
        known = ", ".join(CANVAS_METHODS)
        return None, [
            f"unknown Canvas calculation method {calculation_method!r}"
            f"{_did_you_mean(key, list(CANVAS_METHODS))} (known: {known})"
        ]
    params: dict[str, object] = {}
    if calculation_int is not None:
        if name in ("weighted_average", "decaying_average"):
            params["weight"] = calculation_int / 100
        elif name == "n_mastery":
            params["n"] = calculation_int
    return validate_params(name, params)


def describe(spec: MethodSpec, *, mastery_threshold: float | None = None) -> str:
    """The method in one plain sentence for report cards, with its parameters filled in.

    ``describe(decaying_average weight=0.65)`` -> "a decaying average: each new score counts 65%
    and all earlier scores together 35%, so recent work weighs most".
    """
    p = spec.params

    def scores(k: int) -> str:
        return "1 score" if k == 1 else f"{k} scores"

    fields: dict[str, str] = {}
    if "weight" in p:
        weight = float(p["weight"])
        fields["weight_pct"] = f"{weight * 100:.4g}%"
        fields["rest_pct"] = f"{(1 - weight) * 100:.4g}%"
    if "n" in p:
        n = int(p["n"])
        fields["n"] = str(n)
        fields["n_scores"] = scores(n)
        fields["n_highest"] = "highest score" if n == 1 else f"{n} highest scores"
    if spec.name == "n_mastery":
        fields["threshold"] = (
            "the mastery level" if mastery_threshold is None else f"{mastery_threshold:g}"
        )
    if spec.name == "power_law":
        fields["predict_at"] = (
            "at the latest assessment" if p["predict"] == "last" else "one assessment ahead"
        )
        fields["min_scores_text"] = scores(int(p["min_scores"]))
        fields["clamp_text"] = ", and stays within the scale" if p["clamp"] else ""
    if spec.name == "mode":
        fields["tie_text"] = {
            "latest": "when two scores are equally frequent, the more recent one counts",
            "highest": "when two scores are equally frequent, the higher one counts",
            "none": "when two scores are equally frequent, the teacher decides",
        }[str(p["tie"])]
    return spec.info.sentence.format(**fields)


# --------------------------------------------------------------------------------------------
# The result, and the columns prepared once per call
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One row per group, in ascending group-code order.

    ``value`` is NaN wherever ``status`` is not :data:`STATUS_OK`; ``count`` is the number of
    evidence rows the group had (all of them, also for methods that use only some).
    """

    groups: IntArray
    value: FloatArray
    count: IntArray
    status: StatusArray

    def __len__(self) -> int:
        return int(self.groups.size)

    def status_labels(self) -> npt.NDArray[np.str_]:
        """The status of each group as text (see :data:`STATUS_LABELS`)."""
        return np.asarray(STATUS_LABELS)[self.status]

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame with columns group, value, count, status (categorical text)."""
        import pandas as pd

        status = pd.Categorical.from_codes(self.status, categories=pd.Index(STATUS_LABELS))
        return pd.DataFrame(
            {"group": self.groups, "value": self.value, "count": self.count, "status": status}
        )


class _Columns:
    """Evidence sorted by group (evidence order kept inside each group) plus the segment layout.

    Segment layout: group ``i`` owns rows ``starts[i] : starts[i] + counts[i]``. Per-row helper
    columns are built only when a method asks for them, so cheap methods stay cheap.
    """

    def __init__(self, starts: IntArray, score: FloatArray, weight: FloatArray | None) -> None:
        """Segments start at ``starts`` (ascending, the first at 0 unless there are no rows)."""
        self.score = score
        self.weight = weight
        self.starts: IntArray = starts
        self.counts: IntArray = np.diff(np.append(starts, score.size)).astype(np.int64)
        self.ends: IntArray = starts + self.counts
        self.n_groups = int(starts.size)

    @classmethod
    def of_groups(cls, group: IntArray, score: FloatArray, weight: FloatArray | None
                  ) -> tuple[_Columns, IntArray]:
        """(the columns, the group code of each segment) of rows sorted by group."""
        if score.size:
            change = np.flatnonzero(group[1:] != group[:-1]) + 1
            starts: IntArray = np.concatenate(([0], change)).astype(np.int64)
        else:
            starts = np.zeros(0, dtype=np.int64)
        return cls(starts, score, weight), group[starts]

    def per_row(self, values: float | FloatArray) -> float | FloatArray:
        """A per-segment array spread over the segment's rows (a number stays a number)."""
        if isinstance(values, np.ndarray):
            return np.repeat(values, self.counts)
        return values

    def sum(self, values: npt.NDArray[np.float64] | npt.NDArray[np.int64]) -> FloatArray:
        """Per-group sum of a row column. reduceat is right here only because no segment is
        empty (for an empty one it would return the next row instead of 0)."""
        return np.add.reduceat(values, self.starts).astype(np.float64, copy=False)

    def max(self, values: FloatArray) -> FloatArray:
        return np.maximum.reduceat(values, self.starts)

    @cached_property
    def gid(self) -> IntArray:
        """Row -> index of its group (0 .. n_groups - 1)."""
        return np.repeat(np.arange(self.n_groups, dtype=np.int64), self.counts)

    @cached_property
    def pos(self) -> IntArray:
        """Row -> 0-based position within its group (0 = oldest evidence)."""
        # A running count of ones that drops back to 0 at each segment start, summed in place:
        # one array of the column's size, where arange minus repeat makes three.
        steps = np.ones(self.score.size, dtype=np.int64)
        steps[self.starts[1:]] = 1 - self.counts[:-1]
        steps[:1] = 0
        return np.cumsum(steps, out=steps)

    @cached_property
    def from_end(self) -> IntArray:
        """Row -> how many newer rows its group has (0 = the latest evidence)."""
        # Counting down by one from each segment's length - 1 (in place, as `pos`).
        steps = np.full(self.score.size, -1, dtype=np.int64)
        steps[self.starts] = self.counts - 1
        return np.cumsum(steps, out=steps)

    @cached_property
    def by_value(self) -> IntArray:
        """A permutation ordering rows by (group, score); equal scores keep evidence order.

        Scores are replaced by integer ranks (their number of whole steps when they have
        one, else dense ranks) so that the key ``gid * ranks + rank`` is one int64: a stable
        argsort of that almost-sorted key (timsort runs) plus the ranking is several times
        faster than ``np.lexsort((score, gid))`` on ten million rows.
        """
        score = self.score
        key = self._key_in_steps()
        if key is not None:
            return np.argsort(key, kind="stable").astype(np.int64, copy=False)
        distinct = np.unique(score)
        if distinct.size <= 1 << 16:  # few distinct values: a binary search each
            rank = np.searchsorted(distinct, score).astype(np.int64, copy=False)
        else:  # arbitrary floats: dense rank from one sort
            order = np.argsort(score)
            ordered = score[order]
            new_value = np.empty(score.size, dtype=np.int64)
            new_value[0] = 0
            np.not_equal(ordered[1:], ordered[:-1], out=new_value[1:], casting="unsafe")
            rank = np.empty(score.size, dtype=np.int64)
            rank[order] = np.cumsum(new_value)
        key = self.gid * np.int64(distinct.size) + rank
        return np.argsort(key, kind="stable").astype(np.int64, copy=False)

    def _key_in_steps(self) -> IntArray | None:
        """``gid * width + rank`` when the scores are in whole steps (`steps`), else None."""
        steps = self.steps
        if steps is None:
            return None
        return self.gid * np.int64(steps.width) + steps.rank

    @cached_property
    def steps(self) -> _Steps | None:
        """Every score as a whole number of one step (rubric levels, half points, hundredths:
        the step is guessed from a sample), or None when they are not.

        ``step / per_unit == score`` exactly, for every score, makes the step a faithful rank:
        one score has one step, and steps order like the scores. Four passes over the scores
        against a hash or sort of them and a binary search per row (~20 ms at a million rows).
        """
        score = self.score
        if not score.size:
            return None
        per_unit = _step_of(score[:: max(1, score.size // 4096)])
        if per_unit is None:
            return None
        # Block by block, through one small scratch array: three temporaries the size of the
        # column would be fresh memory, which costs more than the arithmetic here.
        scratch = np.empty(min(score.size, _STEP_BLOCK))
        lowest, highest = math.inf, -math.inf
        for part, step in self._step_blocks(per_unit, scratch):
            if not (np.divide(step, per_unit) == part).all():
                return None
            lowest = min(lowest, float(step.min()))
            highest = max(highest, float(step.max()))
        if not (math.isfinite(lowest) and math.isfinite(highest)) or highest - lowest >= 1 << 20:
            return None
        rank = np.empty(score.size, dtype=np.int32)
        at = 0
        for _, step in self._step_blocks(per_unit, scratch):
            np.subtract(step, lowest, out=step)
            rank[at : at + step.size] = step
            at += step.size
        return _Steps(rank, int(highest - lowest) + 1, lowest, per_unit)

    def _step_blocks(self, per_unit: float, scratch: FloatArray
                     ) -> Iterator[tuple[FloatArray, FloatArray]]:
        """(a block of scores, its nearest whole steps, in ``scratch``), block by block."""
        for start in range(0, self.score.size, scratch.size):
            part = self.score[start : start + scratch.size]
            step = scratch[: part.size]
            np.multiply(part, per_unit, out=step)
            np.rint(step, out=step)
            yield part, step


#: Scores worked on at a time when finding their steps (half a megabyte of float64).
_STEP_BLOCK = 1 << 16


@dataclass(frozen=True)
class _Steps:
    """Scores as whole steps: ``score == (rank + lowest) / per_unit`` exactly, for every row;
    ranks run from 0 to ``width - 1`` (int32: fewer than 2**20 of them)."""

    rank: npt.NDArray[np.int32]
    width: int
    lowest: float
    per_unit: float

    def score_of(self, rank: IntArray) -> FloatArray:
        """The score of each rank (the very float of the rows with that rank)."""
        return np.divide(rank + self.lowest, self.per_unit)


def _step_of(sample: FloatArray) -> float | None:
    """The coarsest step (1, 1/2, 1/4, 1/10 or 1/100) that every score of ``sample`` is a whole
    number of, or None: a guess that `_Columns._key_in_steps` checks on every score."""
    for per_unit in (1.0, 2.0, 4.0, 10.0, 100.0):
        stepped = sample * per_unit
        if (stepped == np.rint(stepped)).all():
            return per_unit
    return None


# --------------------------------------------------------------------------------------------
# Kernels: (columns, params, context) -> (value per group, status per group)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scale:
    """The scale's bounds and mastery value: numbers, or one value per segment when the
    segments computed together are on different scales."""

    minimum: float | FloatArray
    maximum: float | FloatArray
    threshold: float | FloatArray


_Outcome = tuple[FloatArray, StatusArray]
_Kernel = Callable[[_Columns, Mapping[str, ParamValue], _Scale], _Outcome]


def _ok(cols: _Columns, value: FloatArray) -> _Outcome:
    return value, np.zeros(cols.n_groups, dtype=np.int8)


def _only_where(value: FloatArray, valid: npt.NDArray[np.bool_], code: int) -> _Outcome:
    status = np.where(valid, STATUS_OK, code).astype(np.int8)
    return np.where(valid, value, np.nan), status


def _highest(cols: _Columns, p: Mapping[str, ParamValue], scale: _Scale) -> _Outcome:
    return _ok(cols, cols.max(cols.score))


def _latest(cols: _Columns, p: Mapping[str, ParamValue], scale: _Scale) -> _Outcome:
    return _ok(cols, cols.score[cols.ends - 1])


def _average(cols: _Columns, p: Mapping[str, ParamValue], scale: _Scale) -> _Outcome:
    if cols.weight is None:
        return _ok(cols, cols.sum(cols.score) / cols.counts)
    total_weight = cols.sum(cols.weight)
    has_weight = total_weight > 0  # all-weightless evidence (formative only) is no evidence
    with np.errstate(invalid="ignore", divide="ignore"):
        value = cols.sum(cols.score * cols.weight) / total_weight
    return _only_where(value, has_weight, STATUS_INSUFFICIENT)


def _median(cols: _Columns, p: Mapping[str, ParamValue], scale: _Scale) -> _Outcome:
    ordered = cols.score[cols.by_value]
    low = ordered[cols.starts + (cols.counts - 1) // 2]
    high = ordered[cols.starts + cols.counts // 2]
    return _ok(cols, 0.5 * (low + high))


def _weighted_average(cols: _Columns, p: Mapping[str, ParamValue], scale: _Scale) -> _Outcome:
    w = float(p["weight"])
    latest = cols.score[cols.ends - 1]
    # Sum the earlier rows directly rather than total - latest: the subtraction could make the
    # result move (by an ulp) the wrong way when the latest score rises.
    earlier_sum = cols.sum(np.where(cols.from_end > 0, cols.score, 0.0))
    earlier = cols.counts - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        blended = latest * w + (earlier_sum / earlier) * (1.0 - w)
    return _ok(cols, np.where(earlier > 0, blended, latest))


def _decaying_average(cols: _Columns, p: Mapping[str, ParamValue], scale: _Scale) -> _Outcome:
    # Closed form of d1 = s1, d_k = d_{k-1}(1-w) + s_k w:
    #   d_n = s1 (1-w)^(n-1) + sum_{k>=2} s_k w (1-w)^(n-k).
    # Exponents count back from each group's latest row, so the newest coefficients are the
    # large ones and very old evidence underflows harmlessly to 0 instead of overflowing.
    w = float(p["weight"])
    longest = int(cols.counts.max())
    decay = np.power(1.0 - w, np.arange(longest, dtype=np.float64))  # small table, then gather
    coef = decay[cols.from_end]
    np.multiply(coef, w, out=coef)
    coef[cols.starts] = decay[cols.counts - 1]  # the first score carries no w factor
    return _ok(cols, cols.sum(np.multiply(coef, cols.score, out=coef)))


def _n_mastery(cols: _Columns, p: Mapping[str, ParamValue], scale: _Scale) -> _Outcome:
    n = int(p["n"])
    mastered = cols.score >= cols.per_row(scale.threshold)
    hits = cols.sum(mastered.astype(np.int64))
    with np.errstate(invalid="ignore", divide="ignore"):
        value = cols.sum(np.where(mastered, cols.score, 0.0)) / hits
    # "fewer than N scores" is implied: N mastered scores need at least N scores.
    return _only_where(value, hits >= n, STATUS_INSUFFICIENT)


def _power_law(cols: _Columns, p: Mapping[str, ParamValue], scale: _Scale) -> _Outcome:
    # Least squares of y = ln s on x = ln k (k = 1..n in evidence order): y = ln a + b x.
    # Centred sums (x - mean x) avoid the cancellation in n*Sxx - Sx^2 for long histories.
    counts = cols.counts.astype(np.float64)
    log_k = np.log(np.arange(1, int(cols.counts.max()) + 2, dtype=np.float64))  # ln 1 .. ln(n+1)
    x = log_k[cols.pos]
    floor = float(p["zero_floor"])
    # A one-score group divides 0 by 0 (masked below); an unclamped fit through a near-zero
    # score may overflow to inf, which is the honest value of that curve.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # In place where the arrays are the column's size (fresh memory costs more than the
        # arithmetic); the operations, and so the bits, are those of the plain formulas.
        y = np.where(cols.score <= 0, floor, cols.score)
        np.log(y, out=y)
        x_mean = np.cumsum(log_k)[cols.counts - 1] / counts  # mean of ln 1 .. ln n
        dx = np.subtract(x, np.repeat(x_mean, cols.counts), out=x)
        product = np.multiply(dx, dx)
        sxx = cols.sum(product)
        sxy = cols.sum(np.multiply(dx, y, out=product))
        slope = np.where(sxx > 0, sxy / sxx, 0.0)  # one score: flat line
        log_a = cols.sum(y) / counts - slope * x_mean
        at = cols.counts if p["predict"] == "last" else cols.counts + 1
        value = np.exp(log_a + slope * log_k[at - 1])
    if p["clamp"]:
        value = np.clip(value, scale.minimum, scale.maximum)
    return _only_where(value, cols.counts >= int(p["min_scores"]), STATUS_INSUFFICIENT)


def _mode(cols: _Columns, p: Mapping[str, ParamValue], scale: _Scale) -> _Outcome:
    tallied = _mode_by_tally(cols, str(p["tie"]))
    return tallied if tallied is not None else _mode_by_sort(cols, p)


#: The mode tallies scores in a groups x steps table when it has at most this many cells per
#: row of evidence (a handful of levels or half points), else it sorts.
_TALLY_CELLS_PER_ROW = 4


def _mode_by_tally(cols: _Columns, tie: str) -> _Outcome | None:
    """The mode from a count of each score's steps per group (`_Columns.steps`): one
    ``bincount`` instead of sorting the rows by value (measured at a million rows: 28 ms
    against 57). None when the scores are not in steps or the table would be large."""
    steps = cols.steps
    if steps is None:
        return None
    cells = cols.n_groups * steps.width
    if cells > _TALLY_CELLS_PER_ROW * cols.score.size + (1 << 16):
        return None
    kind = np.int32 if cells < 2**31 else np.int64
    first_cell = np.arange(0, cells, steps.width, dtype=kind)  # of each group's row
    key = np.repeat(first_cell, cols.counts)
    np.add(key, steps.rank, out=key, casting="unsafe")
    tally = np.bincount(key, minlength=cells).reshape(cols.n_groups, steps.width)
    is_top = tally == tally.max(axis=1)[:, None]
    if tie == "latest":
        # The latest row whose score is one of its group's most frequent: the last such row
        # before the group's end (every group has one).
        top_rows = np.flatnonzero(is_top.reshape(-1)[key])
        latest = top_rows[np.searchsorted(top_rows, cols.ends) - 1]
        return _ok(cols, cols.score[latest])
    highest_top = steps.width - 1 - np.argmax(is_top[:, ::-1], axis=1)
    value = steps.score_of(highest_top)
    if tie == "highest":
        return _ok(cols, value)
    return _only_where(value, is_top.sum(axis=1) == 1, STATUS_NO_RESULT)


def _mode_by_sort(cols: _Columns, p: Mapping[str, ParamValue]) -> _Outcome:
    # Runs of equal (group, score) in value order; each run knows its size and, because the
    # sort is stable, its last row is the latest occurrence of that score. Sorting by value
    # moves rows only within their group's segment, so segment starts also start runs and
    # cols.gid still tells the group of every position.
    perm = cols.by_value
    ordered = cols.score[perm]
    new_run = np.empty(perm.size, dtype=np.bool_)
    new_run[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new_run[1:])
    new_run[cols.starts] = True
    run_start = np.flatnonzero(new_run)
    run_end = np.append(run_start[1:], perm.size)
    run_size = run_end - run_start
    run_group = cols.gid[run_start]
    run_value = ordered[run_start]
    run_latest_row = perm[run_end - 1]
    # Runs of one group are adjacent: segment the runs by group as the rows were.
    group_first_run = np.flatnonzero(np.append(True, run_group[1:] != run_group[:-1]))
    top = np.maximum.reduceat(run_size, group_first_run)
    is_top = run_size == top[run_group]
    n_top = np.add.reduceat(is_top.astype(np.int64), group_first_run)
    highest_top = np.maximum.reduceat(np.where(is_top, run_value, -np.inf), group_first_run)
    tie = p["tie"]
    if tie == "latest":
        latest_row = np.maximum.reduceat(np.where(is_top, run_latest_row, -1), group_first_run)
        return _ok(cols, cols.score[latest_row])
    if tie == "highest":
        return _ok(cols, highest_top)
    return _only_where(highest_top, n_top == 1, STATUS_NO_RESULT)


def _mean_last_n(cols: _Columns, p: Mapping[str, ParamValue], scale: _Scale) -> _Outcome:
    n = int(p["n"])
    recent = cols.sum(np.where(cols.from_end < n, cols.score, 0.0))
    return _ok(cols, recent / np.minimum(cols.counts, n))


def _highest_last_n(cols: _Columns, p: Mapping[str, ParamValue], scale: _Scale) -> _Outcome:
    n = int(p["n"])
    return _ok(cols, cols.max(np.where(cols.from_end < n, cols.score, -np.inf)))


def _mean_top_n(cols: _Columns, p: Mapping[str, ParamValue], scale: _Scale) -> _Outcome:
    # In value order the segments are the same, so "n highest" = "n last in value order".
    n = int(p["n"])
    ordered = cols.score[cols.by_value]
    top = cols.sum(np.where(cols.from_end < n, ordered, 0.0))
    return _ok(cols, top / np.minimum(cols.counts, n))


_KERNELS: dict[str, _Kernel] = {
    "highest": _highest,
    "latest": _latest,
    "average": _average,
    "median": _median,
    "weighted_average": _weighted_average,
    "decaying_average": _decaying_average,
    "n_mastery": _n_mastery,
    "power_law": _power_law,
    "mode": _mode,
    "mean_last_n": _mean_last_n,
    "highest_last_n": _highest_last_n,
    "mean_top_n": _mean_top_n,
}
assert set(_KERNELS) == set(METHODS)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _prepare(group: npt.ArrayLike, score: npt.ArrayLike, weight: npt.ArrayLike | None
             ) -> tuple[_Columns, IntArray]:
    g = np.asarray(group)
    if g.ndim != 1 or not (g.dtype.kind in "iu" or g.size == 0):
        raise TypeError(f"group must be a 1-d array of integer codes (got dtype {g.dtype})")
    g = g.astype(np.int64, copy=False)
    s = np.asarray(score, dtype=np.float64)
    w = None if weight is None else np.asarray(weight, dtype=np.float64)
    if s.shape != g.shape or (w is not None and w.shape != g.shape):
        raise ValueError("group, score and weight must be 1-d arrays of the same length")
    if not np.isfinite(s).all():
        raise ValueError("score must be finite: drop blank and excused evidence before compute")
    if w is not None and not (np.isfinite(w).all() and (w >= 0).all()):
        raise ValueError("weight must be finite and >= 0")
    if g.size > 1 and (g[1:] < g[:-1]).any():
        # A stable sort keeps each group's rows in the caller's evidence order.
        order = np.argsort(g, kind="stable")
        g, s = g[order], s[order]
        w = None if w is None else w[order]
    return _Columns.of_groups(g, s, w)


def compute(
    spec: MethodSpec,
    group: npt.ArrayLike,
    score: npt.ArrayLike,
    weight: npt.ArrayLike | None = None,
    *,
    scale_min: float,
    scale_max: float,
    mastery_threshold: float,
) -> Result:
    """Compute ``spec`` for every group at once.

    Input contract:

    * ``group``: integer group codes (one per student × learning target), any values, in any
      order across groups; already sorted by group (e.g. ``df.sort_values([group, date, row])``)
      is fastest, otherwise rows are stably sorted by group here.
    * rows of one group must be in **evidence order**, oldest first. The caller decides that
      order (date, then a stable tie-break such as the file row); a stable sort keeps it.
    * ``score``: finite floats; blank and excused evidence is removed by the caller.
    * ``weight``: optional per-row weight >= 0 (e.g. by evidence type). Only ``average`` uses it
      (weighted mean; a group whose weights are all 0 is insufficient evidence); every other
      method ignores it, so filter out evidence that must not count at all.
    * ``scale_min``/``scale_max`` bound ``power_law`` when clamped; ``mastery_threshold`` is
      what ``n_mastery`` counts as mastered (score >= threshold).

    Results are full-precision floats, never rounded (see :mod:`.rounding`).
    """
    checked, problems = validate_params(spec.name, spec.params)
    if checked is None:
        raise ValueError("; ".join(problems))
    if not (math.isfinite(scale_min) and math.isfinite(scale_max) and scale_min < scale_max):
        raise ValueError(f"need finite scale_min < scale_max (got {scale_min}, {scale_max})")
    if not math.isfinite(mastery_threshold):
        raise ValueError(f"mastery_threshold must be finite (got {mastery_threshold})")
    cols, groups = _prepare(group, score, weight)
    scale = _Scale(float(scale_min), float(scale_max), float(mastery_threshold))
    value, status = _run_kernel(checked, cols, scale)
    return Result(groups, value, cols.counts, status)


def compute_segments(
    spec: MethodSpec,
    starts: IntArray,
    score: FloatArray,
    weight: FloatArray | None = None,
    *,
    scale_min: float | FloatArray,
    scale_max: float | FloatArray,
    mastery_threshold: float | FloatArray,
) -> tuple[FloatArray, IntArray, StatusArray, IntArray]:
    """`compute` for rows already laid out in segments: (value, count, status, position of
    each row within its segment), one entry per segment.

    For the grading pipeline, which has its rows in evidence order and knows where each
    student x target starts: segment ``i`` is ``score[starts[i]:starts[i + 1]]``, in evidence
    order; ``starts`` ascends from 0. The caller vouches for the rows (finite scores, weights
    >= 0) and for the spec's parameters; the scale's bounds may be one per segment.
    """
    checked, problems = validate_params(spec.name, spec.params)
    if checked is None:
        raise ValueError("; ".join(problems))
    cols = _Columns(np.asarray(starts, dtype=np.int64), score, weight)
    value, status = _run_kernel(checked, cols, _Scale(scale_min, scale_max, mastery_threshold))
    return value, cols.counts, status, cols.pos


def _run_kernel(spec: MethodSpec, cols: _Columns, scale: _Scale) -> tuple[FloatArray, StatusArray]:
    if cols.n_groups == 0:
        return np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.int8)
    value, status = _KERNELS[spec.name](cols, spec.params, scale)
    return value.astype(np.float64, copy=False), status
