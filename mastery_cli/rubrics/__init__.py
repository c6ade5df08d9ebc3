"""Rubrics in use: loading one checked rubric, its level language and its exemplars.

Calibration (`mastery calibrate`), the exemplar bank (`mastery report exemplars`) and
rubric-scored evidence (`mastery grade --rubric`) read rubrics through this package.
"""

from mastery_cli.rubrics.levels import (
    LevelText,
    exemplar_location,
    exemplars_by_level,
    level_language,
)
from mastery_cli.rubrics.load import load_rubric, load_rubrics

__all__ = [
    "LevelText",
    "exemplar_location",
    "exemplars_by_level",
    "level_language",
    "load_rubric",
    "load_rubrics",
]
