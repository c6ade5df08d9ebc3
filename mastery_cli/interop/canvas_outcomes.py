"""``mastery export canvas-outcomes``: the framework as Canvas's outcomes import CSV.

Competencies become outcome groups under one group for the framework, targets become outcomes
with the target id as ``vendor_guid`` (so results exported from Canvas map back to targets),
ratings come from the target's scale (highest first: Canvas wants points non-increasing), and
the mastery points are the scale's mastery level. A grading policy, when given, sets Canvas's
calculation method.
"""

from __future__ import annotations

import csv
import html
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mastery_cli import csvtext
from mastery_cli.diagnostics import Diagnostic, MasteryError, error
from mastery_cli.framework.model import Framework, Scale
from mastery_cli.inputs import hint_for, read_regular_text
from mastery_cli.interop.tree import short_title
from mastery_cli.output import neutralize_formula

HEADER = ["canvas_id", "vendor_guid", "object_type", "title", "description", "display_name",
          "calculation_method", "calculation_int", "parent_guids", "workflow_state",
          "mastery_points", "ratings"]
#: Our policy method names -> Canvas's; the second value says whether Canvas takes an int.
_METHODS = {
    "decaying_average": "standard_decaying_average",
    "standard_decaying_average": "standard_decaying_average",
    "weighted_average": "weighted_average",
    "n_mastery": "n_mastery",
    "highest": "highest",
    "latest": "latest",
    "average": "average",
}
DEFAULT_WEIGHT = 0.65
DEFAULT_N = 5


@dataclass(frozen=True)
class Calculation:
    method: str = ""
    parameter: str = ""


def calculation_from_policy(path: Path, display: str | None = None
                            ) -> tuple[Calculation, list[Diagnostic]]:
    """Canvas's calculation method and int from a policy file's ``method``.

    Only ``kind`` and ``method`` are read: ``method: decaying_average`` or
    ``method: {name: decaying_average, weight: 0.65}`` / ``{name: n_mastery, n: 3}``.
    """
    from mastery_cli.yamlfile import load_yaml

    shown = display or str(path)
    document, problems = load_yaml(path, shown)
    if document is None or problems:
        raise MasteryError(problems)
    data = document.data
    if not isinstance(data, dict) or data.get("kind") != "policy":
        raise MasteryError(document.diagnostic(
            "not-a-policy", "not a grading policy: 'kind: policy' is missing",
            hint="pass the policy YAML with --policy"), usage=True)
    method = data.get("method")
    params: dict[str, Any] = {}
    if isinstance(method, dict):
        params = method
        method = method.get("name")
    if not isinstance(method, str):
        raise MasteryError(document.diagnostic(
            "policy-method", "the policy has no method name", ("method",),
            hint="e.g. 'method: decaying_average'"))
    canvas = _METHODS.get(method)
    if canvas is None:
        return Calculation(), [document.diagnostic(
            "canvas-method-unsupported", f"Canvas has no '{method}' calculation; the outcomes "
            "keep Canvas's default", ("method",), severity="warning",
            hint="Canvas offers decaying_average, weighted_average, n_mastery, highest, "
            "latest and average")]
    if canvas in ("standard_decaying_average", "weighted_average"):
        weight = params.get("weight", DEFAULT_WEIGHT)
        if not isinstance(weight, int | float) or isinstance(weight, bool):
            weight = DEFAULT_WEIGHT
        if not math.isfinite(weight) or weight <= 0:
            # .nan, .inf and negatives parse as YAML floats; Canvas's percent must be a count.
            raise MasteryError(document.diagnostic(
                "policy-parameter", f"weight must be a number between 0.5 and 0.99 (got {weight})",
                ("method", "weight"), hint="e.g. 'weight: 0.65'"))
        percent = round(weight * 100) if weight <= 1 else round(weight)
        return Calculation(canvas, str(percent)), []
    if canvas == "n_mastery":
        n = params.get("n", DEFAULT_N)
        return Calculation(canvas, str(n if isinstance(n, int) else DEFAULT_N)), []
    return Calculation(canvas, ""), []


def _points(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _ratings(framework: Framework, scale: Scale | None) -> list[str]:
    if scale is None:
        return []
    cells: list[str] = []
    for level in sorted(scale.levels, key=lambda lv: lv.value, reverse=True):
        cells += [_points(level.value), framework.text(level.label)]
    return cells


def canvas_outcome_rows(framework: Framework, calculation: Calculation | None = None
                        ) -> list[list[str]]:
    """Header and rows; rows are padded so every line has the same number of cells."""
    calculation = calculation or Calculation()
    root = framework.id
    rows: list[list[str]] = [[
        "", root, "group", framework.text(framework.title) or root,
        html.escape(framework.text(framework.description)), "", "", "", "", "active", "", "",
    ]]
    for competency in framework.competencies.values():
        rows.append([
            "", competency.id, "group", framework.text(competency.title),
            html.escape(framework.text(competency.statement)), "", "", "", root, "active",
            "", "",
        ])
        scale = framework.scale_of(competency)
        for target in competency.targets:
            statement = framework.text(target.statement)
            title = framework.text(target.title) if target.title else short_title(statement)
            ratings = _ratings(framework, scale)
            rows.append([
                "", target.id, "outcome", title, html.escape(statement), target.id,
                calculation.method, calculation.parameter, competency.id, "active",
                _points(scale.mastery_value) if scale else "",
                *(ratings or [""]),
            ])
    width = max(len(r) for r in rows)
    header = HEADER + [""] * (width - len(HEADER))
    return [header, *[r + [""] * (width - len(r)) for r in rows]]


def export_canvas_outcomes(framework: Framework, calculation: Calculation | None = None) -> str:
    """The CSV text, every cell formula-safe as grade's outputs are."""
    buffer = io.StringIO()
    rows = canvas_outcome_rows(framework, calculation)
    csv.writer(buffer, lineterminator="\n").writerows(
        [[neutralize_formula(cell) for cell in row] for row in rows])
    return buffer.getvalue()


def canvas_outcome_map(framework: Framework, outcomes_csv: Path | None = None) -> dict[str, str]:
    """Names Canvas uses for an outcome -> our target id, for reading Canvas results back.

    Without a file: each target's id, title and "group > title" path as exported. With the
    outcomes CSV Canvas exports after the import: also its ``canvas_id`` (the "learning outcome
    id" of results reports) and its current ``title`` and ``display_name`` (outcomes are often
    renamed in Canvas, and older results reports carry only the name), matched through
    ``vendor_guid``.
    """
    mapping: dict[str, str] = {}
    for competency in framework.competencies.values():
        for target in competency.targets:
            title = framework.text(target.title) if target.title else short_title(
                framework.text(target.statement))
            mapping[target.id] = target.id
            mapping.setdefault(title, target.id)
            path = " > ".join([framework.text(framework.title) or framework.id,
                               framework.text(competency.title), title])
            mapping.setdefault(path, target.id)
    if outcomes_csv is not None:
        try:
            text = read_regular_text(outcomes_csv, "utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else exc
            raise MasteryError(error("file-unreadable", f"cannot read the file: {reason}",
                                     str(outcomes_csv),
                                     hint=hint_for(exc) if isinstance(exc, OSError) else None)
                               ) from None
        for row in csvtext.dict_reader(text):
            guid, canvas_id = (row.get("vendor_guid") or "").strip(), (
                row.get("canvas_id") or "").strip()
            if guid not in framework.targets:
                continue
            if canvas_id:
                mapping[canvas_id] = guid
            for name in (row.get("title"), row.get("display_name")):
                if name and name.strip():
                    mapping[name.strip()] = guid
    return mapping



