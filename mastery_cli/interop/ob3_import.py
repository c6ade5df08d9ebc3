"""A transfer student's backpack (Open Badges 3.0 / CLR 2.0) back into evidence rows.

Each ``AchievementCredential`` (alone, or inside a ``ClrCredential``; JSON or VC-JWT) whose
achievement aligns to one of our targets becomes one gradebook row, in the columns of the
transfer CSV ``mastery grade`` reads: the level achieved is the score, the credential's
``validFrom`` day the date, ``source`` is ``prior school`` and the first piece of evidence the
``artifact``. Alignments are matched by CASE identifier (``targetCode``), then CASE URI
(``targetUrl``), then by our own id (``humanCode`` or ``targetCode``). A VC-JWT whose signature
does not check out is an error; credentials for competencies carry no evidence of their own and
are counted, not imported. Approval stays a person's act: rows are approved only when
``approved_by`` is given.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mastery_cli.diagnostics import Diagnostic, Severity, error, warning
from mastery_cli.framework.model import Framework
from mastery_cli.interop.ob3 import case_items
from mastery_cli.interop.ob3_sign import SignatureProblem, verify_credential
from mastery_cli.output import neutralize_formula

COLUMNS = ("student_id", "student_name", "section", "course", "target", "assessment", "type",
           "date", "score", "comment", "source", "artifact", "approved_by", "approved_on")


@dataclass
class BackpackImport:
    rows: list[dict[str, str]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: Files (or a CLR's top level) that were signed VC-JWTs, and those that were plain JSON.
    signed: int = 0
    unsigned: int = 0
    competencies: int = 0

    def csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in self.rows:
            writer.writerow([neutralize_formula(row.get(c, "")) for c in COLUMNS])
        return buffer.getvalue()


def _types(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else {str(value)}


class _Reader:
    def __init__(self, framework: Framework, approved_by: str, approved_on: str):
        self.framework = framework
        items = case_items(framework)
        self.by_identifier = {i.identifier.lower(): k for k, i in items.items()}
        self.by_uri = {i.uri: k for k, i in items.items()}
        self.approved = (approved_by, approved_on if approved_by else "")
        self.result = BackpackImport()
        self.seen: set[str] = set()

    def credentials(self, value: Any, shown: str, *, top: bool = True
                    ) -> Iterable[dict[str, Any]]:
        """The achievement credentials in a file's value (a CLR's nested ones too)."""
        if isinstance(value, str):  # a VC-JWT
            try:
                value = verify_credential(value.strip())
            except SignatureProblem as exc:
                self.result.diagnostics.append(error(
                    "ob3-bad-signature", f"the VC-JWT's signature does not check out: {exc}",
                    shown, hint="the credential was changed after it was signed, or is not a "
                    "VC-JWT; ask the sending school for the original"))
                return
            self.result.signed += top
        elif top and isinstance(value, dict) and "proof" not in value:
            self.result.unsigned += 1
        if not isinstance(value, dict):
            return
        types = _types(value.get("type"))
        if "ClrCredential" in types:
            for inner in (value.get("credentialSubject") or {}).get("verifiableCredential") or []:
                yield from self.credentials(inner, shown, top=False)
        elif types & {"AchievementCredential", "OpenBadgeCredential"}:
            yield value
        else:
            self.result.diagnostics.append(warning(
                "ob3-not-a-credential", "not an Open Badges 3.0 or CLR 2.0 credential", shown,
                hint="expected type AchievementCredential, OpenBadgeCredential or ClrCredential"))

    def target_of(self, achievement: dict[str, Any]) -> str | None:
        for alignment in achievement.get("alignment") or []:
            if not isinstance(alignment, dict):
                continue
            code, url = str(alignment.get("targetCode") or ""), str(alignment.get("targetUrl")
                                                                   or "")
            for found in (self.by_identifier.get(code.lower()), self.by_uri.get(url), code):
                if found in self.framework.targets or found in self.framework.competencies:
                    return found
        code = str(achievement.get("humanCode") or "")
        return code if code in self.framework.targets or code in self.framework.competencies \
            else None

    def add(self, credential: dict[str, Any], shown: str) -> None:
        ident = str(credential.get("id") or "")
        if ident and ident in self.seen:
            return
        self.seen.add(ident)
        subject = credential.get("credentialSubject") or {}
        achievement = subject.get("achievement") or {}
        name = str(achievement.get("name") or ident)
        ids = {str(i.get("identityType")): str(i.get("identityHash"))
               for i in subject.get("identifier") or []
               if isinstance(i, dict) and not i.get("hashed")}
        student = ids.get("sisSourcedId") or str(subject.get("id") or "")
        if not student:
            self.result.diagnostics.append(warning(
                "ob3-no-student", f"credential '{name}' does not say whose it is", shown,
                hint="it needs an unhashed sisSourcedId identifier or a subject id"))
            return
        ours = self.target_of(achievement)
        if ours is None:
            self.result.diagnostics.append(warning(
                "ob3-unmapped", f"achievement '{name}' aligns to nothing in framework "
                f"'{self.framework.id}'", shown,
                hint="import the sending school's framework with CASE identifiers, or map the "
                     "row's target by hand"))
            return
        if ours in self.framework.competencies:
            self.result.competencies += 1
            return
        score = _achieved_level(subject, achievement)
        if score is None:
            self.result.diagnostics.append(warning(
                "ob3-no-level", f"credential for {ours} names no achieved level", shown,
                hint="the result's achievedLevel must be a RubricCriterionLevel of the "
                     "achievement's resultDescription"))
            return
        issuer = credential.get("issuer")
        issuer_name = issuer.get("name") if isinstance(issuer, dict) else issuer
        evidence = [e for e in credential.get("evidence") or [] if isinstance(e, dict)]
        self.result.rows.append({
            "student_id": student, "student_name": ids.get("name", ""), "section": "",
            "course": "", "target": ours, "assessment": f"Backpack: {name}",
            "type": "summative", "date": str(credential.get("validFrom") or "")[:10],
            "score": score, "comment": f"credential from {issuer_name}" if issuer_name else "",
            "source": "prior school", "artifact": str(evidence[0].get("id") or "")
            if evidence else "", "approved_by": self.approved[0],
            "approved_on": self.approved[1],
        })


def _achieved_level(subject: dict[str, Any], achievement: dict[str, Any]) -> str | None:
    levels = {str(level.get("id")): level
              for description in achievement.get("resultDescription") or []
              for level in description.get("rubricCriterionLevel") or []
              if isinstance(level, dict)}
    for result in subject.get("result") or []:
        level = levels.get(str(result.get("achievedLevel")))
        for value in ((level or {}).get("level"), (level or {}).get("points"),
                      result.get("value")):
            try:
                return str(float(value)).removesuffix(".0") if value is not None else None
            except (TypeError, ValueError):
                continue
    return None


def read_backpacks(files: Sequence[Path], framework: Framework, *, approved_by: str = "",
                   approved_on: str = "") -> BackpackImport:
    """Evidence rows from backpack files (``.json`` credentials or CLRs, ``.jwt`` VC-JWTs)."""
    reader = _Reader(framework, approved_by, approved_on)
    for file in files:
        shown = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reader.result.diagnostics.append(error("file-unreadable",
                                                   f"cannot read the file: {exc}", shown))
            continue
        value: Any = text
        if not text.lstrip().startswith("eyJ"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                reader.result.diagnostics.append(error(
                    "ob3-bad-json", f"not JSON: {exc.msg}", shown, exc.lineno, exc.colno))
                continue
        for credential in reader.credentials(value, shown):
            reader.add(credential, shown)
    result = reader.result
    if result.competencies:
        result.diagnostics.append(Diagnostic(
            "backpack", None, None, "ob3-competencies-skipped",
            f"{result.competencies} competency credential(s) not imported: grading rolls "
            "competencies up from their targets", Severity.INFO))
    return result
