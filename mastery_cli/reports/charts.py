"""Small inline SVG charts of a student's scores over time.

The chart is decoration for sighted readers: it is marked ``aria-hidden`` and every report
prints the same scores as text next to it (WeasyPrint gives an inline SVG no alternative text in
a tagged PDF, so an ``aria-label`` alone would leave screen-reader users with nothing).
Numbers are written with fixed decimals so identical inputs give identical bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

WIDTH = 132
HEIGHT = 40
PAD_X = 6
PAD_Y = 5
INK = "#1f3a5f"
GOAL = "#5b6472"


def _coord(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def progress_svg(
    scores: Sequence[float], *, scale_min: float, scale_max: float, goal: float
) -> Markup:
    """A sparkline of ``scores`` (oldest first) with a dashed line at the ``goal`` level."""
    if not scores:
        return Markup("")
    span = (scale_max - scale_min) or 1.0

    def y(value: float) -> float:
        clamped = min(max(value, scale_min), scale_max)
        return PAD_Y + (HEIGHT - 2 * PAD_Y) * (1 - (clamped - scale_min) / span)

    step = (WIDTH - 2 * PAD_X) / max(len(scores) - 1, 1)
    xs = [PAD_X + i * step if len(scores) > 1 else WIDTH / 2 for i in range(len(scores))]
    points = " ".join(f"{_coord(x)},{_coord(y(s))}" for x, s in zip(xs, scores, strict=True))
    goal_y = _coord(y(goal))
    parts = [
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" aria-hidden="true" focusable="false">',
        f'<line x1="{PAD_X}" y1="{goal_y}" x2="{WIDTH - PAD_X}" y2="{goal_y}" stroke="{GOAL}" '
        'stroke-width="1" stroke-dasharray="3 3"/>',
    ]
    if len(scores) > 1:
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{INK}" stroke-width="1.6" '
            'stroke-linejoin="round" stroke-linecap="round"/>'
        )
    for index, (x, s) in enumerate(zip(xs, scores, strict=True)):
        last = index == len(scores) - 1
        fill = INK if last else "#ffffff"
        parts.append(
            f'<circle cx="{_coord(x)}" cy="{_coord(y(s))}" r="{2.8 if last else 2.2}" '
            f'fill="{fill}" stroke="{INK}" stroke-width="1.2"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
