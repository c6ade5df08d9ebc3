"""Small inline SVG charts of a student's scores over time.

The library draws the marks (:func:`progress_chart`); the template wraps them in the ``<svg>``
element with a ``<title>`` in the report's language (``macros.html.j2``, ``chart``), which is
the chart's alternative text: screen readers read it in HTML, and WeasyPrint writes it as the
``/Alt`` of the chart's Figure in a tagged PDF. Numbers are written with fixed decimals so
identical inputs give identical bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

WIDTH = 60
HEIGHT = 16
PAD_X = 3
PAD_Y = 3
INK = "#1f3a5f"
GOAL = "#5b6472"


def _coord(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def progress_chart(
    scores: Sequence[float], *, scale_min: float, scale_max: float, goal: float
) -> dict[str, object] | None:
    """A sparkline of ``scores`` (oldest first) with a dashed line at the ``goal`` level:
    ``{width, height, marks}`` (the SVG's inner markup), or None without scores."""
    if not scores:
        return None
    span = (scale_max - scale_min) or 1.0

    def y(value: float) -> float:
        clamped = min(max(value, scale_min), scale_max)
        return PAD_Y + (HEIGHT - 2 * PAD_Y) * (1 - (clamped - scale_min) / span)

    step = (WIDTH - 2 * PAD_X) / max(len(scores) - 1, 1)
    xs = [PAD_X + i * step if len(scores) > 1 else WIDTH / 2 for i in range(len(scores))]
    points = " ".join(f"{_coord(x)},{_coord(y(s))}" for x, s in zip(xs, scores, strict=True))
    goal_y = _coord(y(goal))
    parts = [
        f'<line x1="{PAD_X}" y1="{goal_y}" x2="{WIDTH - PAD_X}" y2="{goal_y}" stroke="{GOAL}" '
        'stroke-width="1" stroke-dasharray="3 2"/>',
    ]
    if len(scores) > 1:
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{INK}" stroke-width="1.4" '
            'stroke-linejoin="round" stroke-linecap="round"/>'
        )
    for index, (x, s) in enumerate(zip(xs, scores, strict=True)):
        last = index == len(scores) - 1
        fill = INK if last else "#ffffff"
        parts.append(
            f'<circle cx="{_coord(x)}" cy="{_coord(y(s))}" r="{2.4 if last else 1.8}" '
            f'fill="{fill}" stroke="{INK}" stroke-width="1"/>'
        )
    return {"width": WIDTH, "height": HEIGHT, "marks": Markup("".join(parts))}
