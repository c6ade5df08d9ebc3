"""Registers the learner rules with ``mastery validate`` (imported when learner files are found).

Learner ids must be unique across the files checked: two records for one student would make
the learner documents and backpacks depend on which file was read first.
"""

from __future__ import annotations

from collections.abc import Mapping

from mastery_cli.diagnostics import Diagnostic, Severity
from mastery_cli.documents import DocumentSet, MasteryDocument
from mastery_cli.framework.model import Framework
from mastery_cli.learner.check import Locate, check_record, framework_for
from mastery_cli.validation import EXTRA_CHECKS
from mastery_cli.yamlfile import Pointer


def yaml_locator(document: MasteryDocument) -> Locate:
    def locate(code: str, message: str, pointer: Pointer, hint: str | None,
               severity: Severity) -> Diagnostic:
        return document.yaml.diagnostic(code, message, pointer, hint=hint,
                                        severity=severity.value)
    return locate


def validate_learner(document: MasteryDocument, frameworks: Mapping[str, Framework],
                     sets: DocumentSet) -> list[Diagnostic]:
    data = document.data if isinstance(document.data, dict) else {}
    locate = yaml_locator(document)
    named = data.get("framework") if isinstance(data.get("framework"), str) else None
    framework = framework_for(named, frameworks)
    found: list[Diagnostic] = []
    if named is not None and framework is None and frameworks:
        found.append(locate("unknown-framework", f"framework '{named}' is not among the files "
                            "checked", ("framework",), "frameworks found: "
                            + ", ".join(sorted(frameworks)), Severity.ERROR))
    if document.schema_ok:
        found.extend(check_record(data, document.path, locate, framework))
    student = data.get("student_id")
    earlier = next((d for d in sets.of_kind("learner") if d is not document
                    and isinstance(d.data, dict) and d.data.get("student_id") == student), None)
    if earlier is not None and sets.of_kind("learner").index(earlier) < sets.of_kind(
            "learner").index(document):
        found.append(locate("duplicate-learner", f"student '{student}' already has a learner "
                            f"file: {earlier.path}", ("student_id",),
                            "keep one record per student", Severity.ERROR))
    return found


EXTRA_CHECKS["learner"] = validate_learner
