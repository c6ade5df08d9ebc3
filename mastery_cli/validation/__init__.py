"""Validate mastery files, and load a checked framework for the other commands.

``validate_paths`` is what ``mastery validate`` runs; ``load_framework`` is what ``grade``,
``report`` and the exporters use to get one framework or a clear error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mastery_cli.diagnostics import (
    Diagnostic,
    MasteryError,
    Severity,
    error,
    sorted_diagnostics,
)
from mastery_cli.documents import DocumentSet, MasteryDocument, load_documents
from mastery_cli.framework.build import build_frameworks, build_rubric
from mastery_cli.framework.model import Framework, Rubric
from mastery_cli.validation.fold import fold_misspelled_keys
from mastery_cli.validation.rules import check_framework, check_rubric

#: Checks for other kinds of file (the grading policy registers one), by kind.
PolicyCheck = Callable[[MasteryDocument, Mapping[str, Framework], DocumentSet], list[Diagnostic]]
EXTRA_CHECKS: dict[str, PolicyCheck] = {}


@dataclass
class ValidationResult:
    diagnostics: list[Diagnostic]
    files_checked: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    frameworks: dict[str, Framework] = field(default_factory=dict)
    rubrics: list[Rubric] = field(default_factory=list)
    documents: DocumentSet | None = None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]


def _register_extra_checks() -> None:
    # Policies belong to grading; import its checker only if that module is present.
    with contextlib.suppress(ImportError):
        from mastery_cli.grading import policy_check  # noqa: F401


def check_documents(sets: DocumentSet, *, strict: bool = False) -> ValidationResult:
    """Check the documents; ``strict`` adds the checks that only ``--strict`` asks for
    (rubric levels without an exemplar)."""
    diagnostics = list(sets.diagnostics)
    frameworks, build_problems = build_frameworks(sets)
    diagnostics.extend(build_problems)
    for framework in frameworks.values():
        diagnostics.extend(check_framework(framework, sets))
    rubrics = []
    for document in sets.of_kind("rubric"):
        rubric = build_rubric(document)
        if rubric is not None:
            rubrics.append(rubric)
            diagnostics.extend(check_rubric(rubric, frameworks, sets))
            if strict:
                diagnostics.extend(_exemplar_gaps(rubric, frameworks, sets))
    if sets.of_kind("policy"):
        # Only then: the grading package is not needed to check frameworks and rubrics.
        _register_extra_checks()
    if sets.of_kind("assessment-plan"):
        from mastery_cli.planning import check as _plan_check  # noqa: F401 (registers)
    if sets.of_kind("learner"):
        from mastery_cli.learner import validate as _learner_rules  # noqa: F401
    for kind, check in EXTRA_CHECKS.items():
        for document in sets.of_kind(kind):
            diagnostics.extend(check(document, frameworks, sets))
    diagnostics = fold_misspelled_keys(diagnostics, sets)
    return ValidationResult(
        diagnostics=sorted_diagnostics(diagnostics), files_checked=sets.files_checked,
        skipped=sets.skipped, frameworks=frameworks, rubrics=rubrics, documents=sets,
    )


def _exemplar_gaps(rubric: Rubric, frameworks: Mapping[str, Framework], sets: DocumentSet
                   ) -> list[Diagnostic]:
    from mastery_cli.validation.exemplars import exemplar_gaps

    framework = (frameworks.get(rubric.framework_id) if rubric.framework_id
                 else next(iter(frameworks.values())) if len(frameworks) == 1 else None)
    return exemplar_gaps(rubric, framework, sets) if framework is not None else []


def validate_paths(paths: Sequence[Path], *, strict: bool = False) -> ValidationResult:
    """Check every mastery file under ``paths`` (files and folders); ``strict``: also what
    only ``validate --strict`` warns about."""
    return check_documents(load_documents(paths), strict=strict)


def load_framework(
    paths: Sequence[Path] | Path, *, framework_id: str | None = None
) -> tuple[Framework, list[Diagnostic]]:
    """The one framework under ``paths``, fully validated, plus its warnings.

    Raises MasteryError (with every error found) when the files have errors, when there is no
    framework, or when there are several and ``framework_id`` does not choose one.
    """
    path_list = [paths] if isinstance(paths, Path) else list(paths)
    result = check_documents(load_documents(path_list, kinds=("framework",)))
    if result.errors:
        raise MasteryError(result.errors)
    shown = ", ".join(str(p) for p in path_list)
    if not result.frameworks:
        raise MasteryError(error(
            "no-framework", f"no framework file found in {shown}", shown,
            hint="point --framework at a YAML file (or folder) with 'kind: framework'",
        ))
    if framework_id is not None:
        if framework_id not in result.frameworks:
            raise MasteryError(error(
                "no-framework", f"framework '{framework_id}' not found in {shown}", shown,
                hint="frameworks found: " + ", ".join(sorted(result.frameworks)),
            ))
        framework = result.frameworks[framework_id]
    elif len(result.frameworks) > 1:
        raise MasteryError(error(
            "several-frameworks",
            f"{shown} holds several frameworks: {', '.join(sorted(result.frameworks))}",
            shown, hint="point --framework at the files of one framework",
        ))
    else:
        framework = next(iter(result.frameworks.values()))
    return framework, [d for d in result.diagnostics if d.severity is not Severity.ERROR]
