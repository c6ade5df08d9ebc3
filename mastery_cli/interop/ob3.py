"""The data backpack: Open Badges 3.0 credentials and a CLR 2.0 record per student.

For every target (and competency) a student has mastered, :func:`backpack` builds one
``AchievementCredential``: the achievement aligns to the target's CASE item (``targetType:
CFItem``, the identifier as ``targetCode`` and the URI as ``targetUrl``, exactly those
``mastery export case`` writes), its ``resultDescription`` is the target's scale as
``RubricCriterionLevel``\\ s, and the result's ``achievedLevel`` points at the level reached.
Portfolio pieces (learner records, and evidence rows with an ``artifact``) become ``evidence``.
The issuer is the framework's ``school`` block. Each student's credentials are bundled in one
``ClrCredential``.

Nothing depends on the clock: ids are UUID version 5 from the framework's namespace, and a
credential is valid from the day of the latest evidence that counted (unless an issuance date
is given), so exporting twice gives the same bytes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mastery_cli.framework.model import Framework, Scale, level_key
from mastery_cli.interop.case_export import export_case_package
from mastery_cli.interop.case_ids import namespace_for, stable_uuid
from mastery_cli.learner.model import Learner, Piece
from mastery_cli.output import safe_filename

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
EPOCH = "1970-01-01T00:00:00Z"
_ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


@dataclass(frozen=True)
class CaseItem:
    identifier: str
    uri: str


@dataclass
class BackpackOptions:
    language: str | None = None
    #: validFrom of every credential (ISO date or date-time); None: the evidence's date.
    issued: str | None = None
    signed: bool = False


@dataclass
class StudentBackpack:
    student_id: str
    #: (file name inside the student's folder, credential) in framework order.
    credentials: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    clr: dict[str, Any] = field(default_factory=dict)


def case_items(framework: Framework, package: Mapping[str, Any] | None = None
               ) -> dict[str, CaseItem]:
    """Our target and competency id → the CASE identifier and URI ``export case`` gives it
    (from ``package``, that export, when already made)."""
    if package is None:
        package, _ = export_case_package(framework)
    items = {}
    for item in package.get("CFItems", []):
        ours = (item.get("extensions") or {}).get("mastery") or {}
        if ours.get("role") in ("target", "competency") and isinstance(ours.get("id"), str):
            items[ours["id"]] = CaseItem(item["identifier"], item["uri"])
    return items


def _timestamp(text: str | None) -> str:
    """An XSD dateTime with zone for a day (midnight UTC) or a date-time; the epoch if none."""
    if not text:
        return EPOCH
    text = str(text).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return f"{text}T00:00:00Z"
    return text


class _Builder:
    def __init__(self, framework: Framework, options: BackpackOptions):
        self.framework = framework
        self.options = options
        self.language = options.language or framework.default_language
        self.namespace = namespace_for(framework.id, framework.namespace)
        package, _ = export_case_package(framework)
        self.case = case_items(framework, package)
        self.issuer = self._issuer()
        package_doc = package.get("CFDocument", {})
        self.framework_title = str(package_doc.get("title") or framework.id)

    def text(self, value: Any) -> str:
        return self.framework.text(value, self.language)

    def urn(self, *parts: str) -> str:
        return f"urn:uuid:{stable_uuid(self.namespace, 'ob3', *parts)}"

    def _issuer(self) -> dict[str, Any]:
        contact = self.framework.school_issuer
        profile: dict[str, Any] = {
            "id": contact.get("id") or contact.get("url") or self.urn("issuer"),
            "type": ["Profile"],
            "name": self.text(self.framework.school) or self.text(self.framework.title)
            or self.framework.id,
        }
        if "url" in contact:
            profile["url"] = contact["url"]
        if "email" in contact:
            profile["email"] = contact["email"]
        return profile

    # -- achievements -----------------------------------------------------------------------
    def result_description(self, scale: Scale) -> dict[str, Any]:
        levels = sorted(scale.levels, key=lambda lv: lv.value)
        mastery = next((lv for lv in levels if lv.mastery), None)
        description: dict[str, Any] = {
            "id": self.urn("scale", scale.id),
            "type": ["ResultDescription"],
            "name": self.text(scale.title) or scale.id,
            "resultType": "RubricCriterionLevel",
            "rubricCriterionLevel": [self.level(scale, lv.value) for lv in levels],
        }
        if mastery is not None:
            description["requiredLevel"] = self.level_id(scale, mastery.value)
        return description

    def level_id(self, scale: Scale, value: float) -> str:
        return self.urn("scale", scale.id, "level", level_key(value))

    def level(self, scale: Scale, value: float) -> dict[str, Any]:
        found = scale.level(value)
        level: dict[str, Any] = {
            "id": self.level_id(scale, value),
            "type": ["RubricCriterionLevel"],
            "name": self.text(found.label) if found else level_key(value),
            "level": level_key(value),
            "points": level_key(value),
        }
        if found is not None and found.descriptor:
            level["description"] = self.text(found.descriptor)
        return level

    def alignment(self, our_id: str, name: str, description: str) -> list[dict[str, Any]]:
        item = self.case.get(our_id)
        if item is None:
            return []
        alignment = {
            "type": ["Alignment"], "targetType": "CFItem", "targetCode": item.identifier,
            "targetUrl": item.uri, "targetName": name, "targetFramework": self.framework_title,
        }
        if description and description != name:
            alignment["targetDescription"] = description
        return [alignment]

    def achievement(self, our_id: str, kind: str, name: str, statement: str,
                    scale: Scale | None) -> dict[str, Any]:
        achievement: dict[str, Any] = {
            "id": self.urn("achievement", our_id),
            "type": ["Achievement"],
            "achievementType": "Competency",
            "name": name,
            "description": statement or name,
            "criteria": {"narrative": f"Mastery of {kind} {our_id} ({name}), shown by evidence "
                                      "graded under the school's mastery policy."},
            "humanCode": our_id,
            "inLanguage": self.language,
        }
        alignment = self.alignment(our_id, name, statement)
        if alignment:
            achievement["alignment"] = alignment
        if scale is not None:
            achievement["resultDescription"] = [self.result_description(scale)]
        return achievement

    # -- credentials ------------------------------------------------------------------------
    def subject(self, student: Mapping[str, Any], achievement: dict[str, Any],
                result: Mapping[str, Any], scale: Scale | None) -> dict[str, Any]:
        student_id = str(student.get("id"))
        identifiers = [{"type": "IdentityObject", "identityType": "sisSourcedId",
                        "hashed": False, "identityHash": student_id}]
        if student.get("name"):
            identifiers.append({"type": "IdentityObject", "identityType": "name",
                                "hashed": False, "identityHash": str(student["name"])})
        subject: dict[str, Any] = {
            "type": ["AchievementSubject"],
            "identifier": identifiers,
            "achievement": achievement,
        }
        level = result.get("level")
        if scale is not None and isinstance(level, int | float) and not isinstance(level, bool):
            outcome: dict[str, Any] = {
                "type": ["Result"],
                "resultDescription": self.urn("scale", scale.id),
                "achievedLevel": self.level_id(scale, float(level)),
            }
            subject["result"] = [outcome]
        return subject

    def credential(self, student: Mapping[str, Any], our_id: str, kind: str,
                   achievement: dict[str, Any], result: Mapping[str, Any], scale: Scale | None,
                   day: str | None, evidence: list[dict[str, Any]]) -> dict[str, Any]:
        name = achievement["name"]
        credential: dict[str, Any] = {
            "@context": [VC_CONTEXT, OB_CONTEXT],
            "id": self.urn("credential", str(student.get("id")), our_id),
            "type": ["VerifiableCredential", "AchievementCredential"],
            "name": f"Mastered: {name}",
            "description": (f"Mastery of the {kind} {our_id} at {self.issuer['name']}."
                            + ("" if self.options.signed else
                               " This copy is not signed: ask the school to confirm it.")),
            "issuer": self.issuer,
            "validFrom": _timestamp(self.options.issued or day),
            "credentialSubject": self.subject(student, achievement, result, scale),
        }
        if evidence:
            credential["evidence"] = evidence
        return credential


def _evidence(pieces: Sequence[Piece], results: Sequence[Mapping[str, Any]], our_ids: set[str]
              ) -> list[dict[str, Any]]:
    """Portfolio pieces and evidence rows with an artifact that showed any of ``our_ids``."""
    found: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()

    def add(title: str, artifact: str, description: str, source: str) -> None:
        if (title, artifact) in seen:
            return
        seen.add((title, artifact))
        entry: dict[str, Any] = {"type": ["Evidence"], "name": title or artifact}
        if artifact and _ABSOLUTE_URI.match(artifact):
            entry["id"] = artifact
        elif artifact:
            entry["description"] = f"Portfolio file: {artifact}"
        notes = [n for n in (description, "" if source in ("", "school")
                             else f"Learning outside school: {source}.") if n]
        if notes:
            entry["narrative"] = " ".join(notes)
        found.append(entry)

    for piece in pieces:
        if our_ids & set(piece.targets):
            add(piece.title, piece.artifact, piece.description, piece.source)
    for result in results:
        if str(result.get("target")) not in our_ids:
            continue
        for row in result.get("evidence") or []:
            if isinstance(row, Mapping) and row.get("used") and row.get("artifact"):
                add(str(row.get("assessment") or ""), str(row["artifact"]), "",
                    str(row.get("source") or ""))
    return found


def backpack(grades: Mapping[str, Any], framework: Framework,
             learners: Mapping[str, Learner] | None = None,
             options: BackpackOptions | None = None,
             students: Sequence[str] = ()) -> list[StudentBackpack]:
    """Every student's credentials and CLR record from a grades.json document."""
    builder = _Builder(framework, options or BackpackOptions())
    learners = learners or {}
    wanted = set(students)
    packs = []
    for student in grades.get("students") or []:
        student_id = str(student.get("id"))
        if wanted and student_id not in wanted:
            continue
        pieces = learners[student_id].portfolio if student_id in learners else []
        pack = StudentBackpack(student_id)
        target_results = {str(r.get("target")): r for r in student.get("targets") or []}
        for target_id, target in framework.targets.items():
            result = target_results.get(target_id)
            if result is None or result.get("mastered") is not True:
                continue
            scale = framework.target_scale(target)
            name = builder.text(target.title) or builder.text(target.statement)
            achievement = builder.achievement(target_id, "target", name,
                                              builder.text(target.statement), scale)
            evidence = _evidence(pieces, [result], {target_id})
            pack.credentials.append((safe_filename(target_id), builder.credential(
                student, target_id, "target", achievement, result, scale,
                result.get("last_evidence_date"), evidence)))
        competency_results = {str(r.get("competency")): r for r in student.get("competencies")
                              or []}
        for competency_id, competency in framework.competencies.items():
            result = competency_results.get(competency_id)
            if result is None or result.get("mastered") is not True:
                continue
            scale = framework.scale_of(competency)
            ids = {t.id for t in competency.targets}
            days = [str(target_results[t]["last_evidence_date"]) for t in ids
                    if t in target_results and target_results[t].get("last_evidence_date")]
            name = builder.text(competency.title)
            achievement = builder.achievement(competency_id, "competency", name,
                                              builder.text(competency.statement), scale)
            evidence = _evidence(pieces, [target_results[t] for t in ids if t in target_results],
                                 ids)
            pack.credentials.append((safe_filename(competency_id), builder.credential(
                student, competency_id, "competency", achievement, result, scale,
                max(days) if days else None, evidence)))
        pack.clr = _clr(builder, student, [c for _, c in pack.credentials])
        packs.append(pack)
    return packs


def _clr(builder: _Builder, student: Mapping[str, Any], credentials: list[dict[str, Any]]
         ) -> dict[str, Any]:
    student_id = str(student.get("id"))
    days = sorted(c["validFrom"] for c in credentials)
    identifiers = [{"type": "IdentityObject", "identityType": "sisSourcedId", "hashed": False,
                    "identityHash": student_id}]
    return {
        "@context": [VC_CONTEXT, CLR_CONTEXT, OB_CONTEXT],
        "id": builder.urn("clr", student_id),
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": f"Comprehensive Learner Record: {student.get('name') or student_id}",
        "description": (f"Every target and competency mastered at {builder.issuer['name']}."
                        + ("" if builder.options.signed else
                           " This copy is not signed: ask the school to confirm it.")),
        "issuer": builder.issuer,
        "validFrom": _timestamp(builder.options.issued) if builder.options.issued else (
            days[-1] if days else EPOCH),
        "credentialSubject": {
            "type": ["ClrSubject"],
            "identifier": identifiers,
            "achievement": [c["credentialSubject"]["achievement"] for c in credentials],
            "verifiableCredential": credentials,
        },
    }


def credential_text(credential: Mapping[str, Any]) -> str:
    """The stable JSON text of a credential (key order as built, two-space indent)."""
    return json.dumps(credential, indent=2, ensure_ascii=False) + "\n"


def credential_uuid(credential: Mapping[str, Any]) -> uuid.UUID | None:
    ident = str(credential.get("id", ""))
    try:
        return uuid.UUID(ident.removeprefix("urn:uuid:"))
    except ValueError:
        return None
