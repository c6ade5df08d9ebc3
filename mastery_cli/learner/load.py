"""Every learner record under some paths: YAML files (``kind: learner``) and bulk CSV files.

Folders are searched for both. Records are schema-checked and run through the same rules as
``mastery validate``; errors make :class:`~mastery_cli.diagnostics.MasteryError` unless the
caller asks for the problems instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mastery_cli.diagnostics import Diagnostic, MasteryError, Severity, error
from mastery_cli.documents import display_path, load_documents
from mastery_cli.framework.model import Framework
from mastery_cli.inputs import hint_for, read_regular_text
from mastery_cli.learner.check import Locate, check_record
from mastery_cli.learner.csvform import read_learner_csv
from mastery_cli.learner.model import Learner, build_learner
from mastery_cli.learner.validate import yaml_locator


def _csv_files(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / f for f in sorted(files) if f.endswith(".csv"))
        elif path.suffix.lower() == ".csv":
            found.append(path)
    return found


def _schema_problems(data: dict[str, Any], locate: Locate) -> list[Diagnostic]:
    from jsonschema import Draft202012Validator

    from mastery_cli.schemas import load_schema

    problems = []
    for problem in Draft202012Validator(load_schema("learner")).iter_errors(data):
        pointer = tuple(problem.absolute_path)
        field = next((str(p) for p in reversed(pointer) if isinstance(p, str)), "the record")
        problems.append(locate(f"schema-{problem.validator}".replace("_", "-").lower(),
                               f"'{field}' does not fit the learner schema ({problem.validator})",
                               pointer, "see 'mastery schema learner' for what each field takes",
                               Severity.ERROR))
    return problems


def read_learners(paths: Sequence[Path], framework: Framework | None
                  ) -> tuple[list[Learner], list[Diagnostic]]:
    """The records under ``paths`` (first one per student kept) and every problem found."""
    found: list[tuple[Learner, Locate]] = []
    problems: list[Diagnostic] = []
    yaml_paths = [p for p in paths if p.is_dir() or p.suffix.lower() != ".csv"]
    if yaml_paths:
        documents = load_documents(yaml_paths, kinds=("learner",))
        problems.extend(documents.diagnostics)
        for document in documents.of_kind("learner"):
            locate = yaml_locator(document)
            if document.schema_ok:
                problems.extend(check_record(document.data, document.path, locate, framework))
            found.append((build_learner(document.data, document.path), locate))
    for file in _csv_files(paths):
        shown = display_path(file)
        try:
            text = read_regular_text(file)
        except (OSError, UnicodeDecodeError) as exc:
            hint = hint_for(exc) if isinstance(exc, OSError) else "save the file as UTF-8"
            problems.append(error("file-unreadable", f"cannot read the file: {exc}", shown,
                                  hint=hint))
            continue
        records, row_problems = read_learner_csv(text, shown)
        problems.extend(row_problems)
        for record in records:
            locate = record.locate()
            schema = _schema_problems(record.data, locate)
            problems.extend(schema)
            if not schema:
                problems.extend(check_record(record.data, shown, locate, framework))
            found.append((build_learner(record.data, shown), locate))
    learners: dict[str, Learner] = {}
    for learner, locate in found:
        if learner.student_id in learners:
            problems.append(locate("duplicate-learner", f"student '{learner.student_id}' "
                                   f"already has a record in {learners[learner.student_id].path}",
                                   ("student_id",), "keep one record per student",
                                   Severity.ERROR))
            continue
        learners[learner.student_id] = learner
    return list(learners.values()), problems


def load_learners(paths: Sequence[Path], framework: Framework | None
                  ) -> tuple[list[Learner], list[Diagnostic]]:
    """:func:`read_learners`, raising MasteryError when any record has errors."""
    learners, problems = read_learners(paths, framework)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        raise MasteryError(errors)
    if not learners:
        shown = ", ".join(str(p) for p in paths)
        raise MasteryError(error(
            "no-learners", f"no learner records found in {shown}", shown,
            hint="learner files are YAML with 'kind: learner' (or a bulk CSV with the columns "
                 "student_id, record, …)"))
    return learners, [p for p in problems if p.severity is not Severity.ERROR]
