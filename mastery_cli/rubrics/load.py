"""Load rubric files (``kind: rubric``) checked against the framework they belong to."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mastery_cli.diagnostics import Diagnostic, MasteryError, Severity, error
from mastery_cli.documents import load_documents
from mastery_cli.framework.build import build_rubric
from mastery_cli.framework.model import Framework, Rubric
from mastery_cli.validation.rules import check_rubric


def load_rubrics(paths: Sequence[Path], framework: Framework) -> tuple[list[Rubric],
                                                                          list[Diagnostic]]:
    """Every rubric under ``paths`` (files or folders), checked against ``framework``.

    Raises MasteryError with every error found (schema, unknown targets, levels off the
    scale, missing exemplar files); returns the rubrics with the warnings.
    """
    sets = load_documents(list(paths), kinds=("rubric",))
    problems = list(sets.diagnostics)
    rubrics: list[Rubric] = []
    for document in sets.of_kind("rubric"):
        rubric = build_rubric(document)
        if rubric is None:
            continue
        rubrics.append(rubric)
        problems += check_rubric(rubric, {framework.id: framework}, sets)
    errors = [d for d in problems if d.severity is Severity.ERROR]
    if errors:
        raise MasteryError(errors)
    return rubrics, problems


def load_rubric(path: Path, framework: Framework) -> tuple[Rubric, list[Diagnostic]]:
    """The one rubric in the file ``path`` (see `load_rubrics`)."""
    rubrics, warnings = load_rubrics([path], framework)
    if len(rubrics) != 1:
        raise MasteryError(error(
            "no-rubric" if not rubrics else "several-rubrics",
            f"{path} holds {len(rubrics)} rubrics; one is needed here", str(path),
            hint="point --rubric at one YAML file with 'kind: rubric'",
        ))
    return rubrics[0], warnings
