"""calibration.html: what a department looks at in its calibration meeting.

Per target: the agreement figures, a chart of each rater's ratings (how often each level),
then the pieces to discuss first, each with its ratings, the rubric's language for the
levels given and the exemplars pegged to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mastery_cli.calibration.analysis import Calibration
from mastery_cli.calibration.pieces import Piece
from mastery_cli.framework.model import Framework, level_key
from mastery_cli.rubrics.levels import exemplar_location, exemplars_by_level, level_language
from mastery_cli.staffdocs import TONE_COLOURS, render_staff_document, tone

#: Width in pixels of a rater's bar in the chart of ratings.
BAR_WIDTH = 320


def _levels(framework: Framework, target: str, pieces: list[Piece]) -> list[float]:
    framework_target = framework.targets.get(target)
    scale = framework.target_scale(framework_target) if framework_target else None
    values = set(scale.values if scale else [])
    values |= {v for p in pieces for v in p.ratings.values()}
    return sorted(values)


def _chart(pieces: list[Piece], levels: list[float]) -> list[dict[str, Any]]:
    """Per rater, the share of their ratings at each level, as bar segments."""
    raters = sorted({r for p in pieces for r in p.ratings})
    bars = []
    for rater in raters:
        given = [p.ratings[rater] for p in pieces if rater in p.ratings]
        x = 0.0
        segments = []
        for index, level in enumerate(levels):
            count = sum(1 for v in given if v == level)
            if count:
                width = BAR_WIDTH * count / len(given)
                shade = tone(index, len(levels))
                fill, stroke = TONE_COLOURS[shade]
                segments.append({"x": round(x, 1), "width": round(width, 1), "count": count,
                                 "level": level_key(level), "tone": shade, "fill": fill,
                                 "stroke": stroke})
                x += width
        bars.append({"rater": rater, "total": len(given), "segments": segments})
    return bars


def _disputed(result: Calibration, target: str, out: Path) -> list[dict[str, Any]]:
    framework = result.framework
    bank = exemplars_by_level(result.rubrics, target)
    items = []
    for piece, spread in result.disputed:
        if piece.target != target:
            continue
        levels = []
        for value in sorted(set(piece.ratings.values())):
            text = level_language(framework, result.rubrics, target, value)
            levels.append({
                "level": level_key(value),
                "label": framework.text(text.label),
                "description": framework.text(text.description),
                "raters": sorted(r for r, v in piece.ratings.items() if v == value),
                "exemplars": [{"note": framework.text(ex.note),
                               "href": exemplar_location(rubric, ex, out)}
                              for rubric, ex in bank.get(value, [])],
            })
        items.append({"label": piece.label, "student": piece.student_name or piece.student_id,
                      "assessment": piece.assessment, "date": piece.date,
                      "spread": level_key(spread), "levels": levels})
    return items


def calibration_context(result: Calibration, out: Path, title: str) -> dict[str, Any]:
    framework = result.framework
    rows = {a.target: a for a in result.agreement}
    targets = []
    for target in result.targets:
        pieces = result.pieces_of(target)
        framework_target = framework.targets.get(target)
        levels = _levels(framework, target, pieces)
        targets.append({
            "id": target,
            "title": framework.text(framework_target.title or framework_target.statement)
            if framework_target else target,
            "agreement": rows[target],
            "legend": [{"level": level_key(v), "tone": tone(i, len(levels))}
                       for i, v in enumerate(levels)],
            "chart": _chart(pieces, levels),
            "bar_width": BAR_WIDTH,
            "disputed": _disputed(result, target, out),
        })
    first = [{"target": p.target, "label": p.label, "spread": level_key(s),
              "ratings": ", ".join(f"{r} {level_key(v)}" for r, v in sorted(p.ratings.items()))}
             for p, s in result.disputed[:10]]
    return {"lang": "en", "title": title, "overall": rows.get("ALL"), "targets": targets,
            "raters": result.raters, "first": first, "single_rated": result.single_rated,
            "pieces": len(result.pieces), "rubrics": [framework.text(r.title)
                                                       for r in result.rubrics]}


def calibration_html(result: Calibration, out: Path, title: str = "Calibration") -> str:
    return render_staff_document("calibration.html.j2", calibration_context(result, out, title))
