"""Moodle competency frameworks: the CSV of Moodle's ``tool_lpimportcsv``, both ways.

Moodle reads the file by position. The current format has 14 columns (FIELD-NOTES §4); the
older plugin wrote 12 (no cross references, no exported id, taxonomy as a JSON object). One row
has ``Is framework`` = 1 and carries the scale: values low → high, and a configuration that
marks the default item and the proficient ones — the lowest proficient value becomes our
mastery level.

Moodle competencies nest to any depth; they are placed as competencies, targets and groups as
for CASE (see ``tree``). What has no field of ours — cross references, the HTML description as
written, per-competency scales, the rules exactly as written — is kept under ``case.moodle`` and
written back on export. Rules that mean a competency roll-up ("all children" ↔ all_mastered,
equal points ↔ n_of_m) also become a grading policy (one roll-up when every competency agrees,
else one override per competency), and a policy's roll-ups become rules on export (see
``moodle_rules``).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mastery_cli import csvtext
from mastery_cli.diagnostics import (
    Diagnostic,
    MasteryError,
    Severity,
    error,
    shortened,
    warning,
)
from mastery_cli.framework.model import Competency, Framework, Scale
from mastery_cli.inputs import hint_for, read_regular_bytes
from mastery_cli.interop.case_ids import IdAllocator, slug
from mastery_cli.interop.case_import import ImportResult, summary_line
from mastery_cli.interop.moodle_rules import (
    OUTCOME_COMPLETE,
    RULE_NAMES,
    Child,
    PolicyRollups,
    Rollup,
    policy_file,
    policy_file_per_competency,
    rollup_to_rule,
    rule_to_rollup,
)
from mastery_cli.interop.tree import (
    Draft,
    LevelSpec,
    Node,
    allocate_ids,
    assign_roles,
    framework_files,
    place,
    walk,
)
from mastery_cli.jsonfile import JsonProblem, parse_json
from mastery_cli.output import neutralize_formula

HEADER_14 = [
    "Parent id number", "Id number", "Shortname", "Description", "Description format",
    "Scale values", "Scale configuration", "Rule type (optional)", "Rule outcome (optional)",
    "Rule config (optional)", "Cross referenced competency id numbers",
    "Exported id (optional)", "Is framework", "Taxonomy",
]
_COLUMNS_14 = ("parent", "id_number", "shortname", "description", "description_format",
               "scale_values", "scale_configuration", "rule_type", "rule_outcome",
               "rule_config", "cross_references", "exported_id", "is_framework", "taxonomy")
_COLUMNS_12 = ("parent", "id_number", "shortname", "description", "description_format",
               "scale_values", "scale_configuration", "rule_type", "rule_outcome",
               "rule_config", "is_framework", "taxonomy")
FORMAT_HTML = "1"
_TAG_BREAK = re.compile(r"<\s*(br|/p|/li|/div|/h[1-6])\s*/?\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(value: str) -> str:
    """The text of a Moodle HTML description: tags dropped, entities decoded, spaces tidied."""
    text = _TAG.sub("", _TAG_BREAK.sub("\n", value))
    lines = [" ".join(html.unescape(line).split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


@dataclass
class _Row:
    line: int
    values: dict[str, str]


def _rows(text: str, path: str) -> tuple[list[str], list[_Row]]:
    reader = csvtext.reader(text)
    rows: list[_Row] = []
    header: list[str] = []
    previous_end = 0
    for record in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        if not header:
            header = record
            continue
        if not any(cell.strip() for cell in record):
            continue
        columns = _COLUMNS_14 if len(header) >= 14 else _COLUMNS_12
        values = {name: (record[i] if i < len(record) else "") for i, name in
                  enumerate(columns)}
        rows.append(_Row(start, values))
    return header, rows


def _scale(values: str, configuration: str, path: str, line: int,
           diagnostics: list[Diagnostic]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Our scale from Moodle's values and configuration, plus what to keep of the latter."""
    labels = [label.strip() for label in values.split(",") if label.strip()]
    if len(labels) < 2:
        return None, {}
    proficient: set[int] = set()
    default: int | None = None
    kept: dict[str, Any] = {}
    try:
        config = parse_json(configuration) if configuration.strip() else []
    except JsonProblem as exc:
        config = []
        diagnostics.append(exc.diagnostic(path, line, 7, pointer="Scale configuration"))
    except json.JSONDecodeError:
        config = []
        diagnostics.append(warning("moodle-scale-configuration",
                                   "the scale configuration is not JSON; ignored", path, line, 7,
                                   pointer="Scale configuration"))
    for entry in config if isinstance(config, list) else []:
        if not isinstance(entry, dict):
            continue
        if "scaleid" in entry:
            kept["scale_id"] = str(entry["scaleid"])
        elif isinstance(entry.get("id"), int | str) and _small_number(entry["id"]):
            if str(entry.get("proficient")) == "1":
                proficient.add(int(entry["id"]))
            if str(entry.get("scaledefault")) == "1":
                default = int(entry["id"])
    mastery = min((p for p in proficient if 1 <= p <= len(labels)), default=None)
    if mastery is None:
        mastery = len(labels)
        diagnostics.append(warning(
            "moodle-no-proficient", "the scale configuration marks no proficient value; the "
            f"highest ('{labels[-1]}') is taken as mastery", path, line, 7,
            pointer="Scale configuration"))
    if default is not None:
        kept["default"] = default
    extra = sorted(p for p in proficient if p > mastery)
    if extra and extra != list(range(mastery + 1, max(extra) + 1)):
        kept["proficient"] = sorted(proficient)  # not a plain "this level and above"
    scale = {
        "id": "moodle",
        "title": "Moodle scale",
        "levels": [
            {"value": n, "label": label, **({"mastery": True} if n == mastery else {})}
            for n, label in enumerate(labels, 1)
        ],
    }
    return scale, kept


def _keep(values: dict[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: values[name] for name in names if values.get(name, "").strip()}


def read_moodle_csv(path: Path, *, levels: str | None = None, split: bool = False,
                    framework_id: str | None = None, display: str | None = None
                    ) -> ImportResult:
    """Read a Moodle competency framework CSV and return the framework files it becomes."""
    shown = display or str(path)
    try:
        text = read_regular_bytes(path).decode("utf-8-sig")
    except OSError as exc:
        raise MasteryError(error("file-unreadable", f"cannot read the file: {exc.strerror}",
                                 shown, hint=hint_for(exc))) from None
    except UnicodeDecodeError:
        raise MasteryError(error("file-encoding", "the file is not UTF-8", shown,
                                 hint="export the framework again from Moodle (UTF-8)")) from None
    header, rows = _rows(text, shown)
    if len(header) < 12:
        raise MasteryError(error(
            "moodle-header", f"expected Moodle's 14 (or older 12) columns, found {len(header)}",
            shown, 1, hint="export the framework from Moodle: Site administration > "
            "Competencies > Export competency framework"))
    diagnostics: list[Diagnostic] = []
    frames = [r for r in rows if r.values["is_framework"].strip() == "1"]
    if not frames:
        raise MasteryError(error("moodle-no-framework",
                                 "no row has 'Is framework' = 1, so there is no framework", shown,
                                 hint="the first data row of a Moodle export describes the "
                                 "framework"))
    frame = frames[0]
    for extra in frames[1:]:
        diagnostics.append(warning("moodle-several-frameworks",
                                   "a second framework row; imported as a competency", shown,
                                   extra.line, 13, pointer="Is framework"))
    nodes: dict[str, Node] = {}
    parents: dict[str, str] = {}
    lines: dict[str, int] = {}
    for row in rows:
        if row is frame:
            continue
        values = row.values
        key = values["id_number"].strip()
        if not key:
            diagnostics.append(warning("moodle-missing-id", "competency without an id number; "
                                       "given one from its row", shown, row.line, 2,
                                       pointer="Id number"))
            key = f"row-{row.line}"
        if key in nodes:
            diagnostics.append(warning("moodle-duplicate-id",
                                       f"id number '{shortened(key)}' is used twice",
                                       shown, row.line, 2, pointer="Id number"))
            key = f"{key}#{row.line}"
        statement = html_to_text(values["description"]) or values["shortname"].strip() or key
        moodle = {"id_number": values["id_number"].strip() or None}
        moodle.update(_keep(values, ("parent",)))
        if values["description"].strip() and values["description"].strip() != statement:
            moodle["description"] = values["description"]
        moodle.update(_keep(values, (
            "description_format", "scale_values", "scale_configuration", "rule_type",
            "rule_config", "cross_references", "exported_id", "taxonomy")))
        if values["rule_outcome"].strip() not in ("", "0"):
            moodle["rule_outcome"] = values["rule_outcome"].strip()
        if moodle.get("rule_config") == "null":
            del moodle["rule_config"]
        nodes[key] = Node(
            key=key, statement=statement, pointer=f"line {row.line}", code=key,
            title=values["shortname"].strip() or None,
            case={"moodle": {k: v for k, v in moodle.items() if v is not None}},
        )
        lines[key] = row.line
        if values["parent"].strip():
            parents[key] = values["parent"].strip()
    roots: list[Node] = []
    for key, node in nodes.items():
        parent = parents.get(key)
        ancestor, steps = parent, 0
        while ancestor is not None and ancestor != key and steps <= len(nodes):
            ancestor, steps = parents.get(ancestor), steps + 1
        if parent is not None and parent in nodes and ancestor is None:
            node.parent = nodes[parent]
            nodes[parent].children.append(node)
        else:
            if parent is not None:
                diagnostics.append(warning(
                    "moodle-unknown-parent",
                    f"parent '{shortened(parent)}' is not a competency of this file (or forms "
                    "a loop); "
                    "placed at the top", shown, None, 1, pointer="Parent id number"))
            roots.append(node)
    for node in walk(roots):
        node.depth = node.parent.depth + 1 if node.parent else 1
    try:
        taxonomy = _taxonomies(frame.values["taxonomy"])
    except JsonProblem as exc:
        taxonomy = {}
        diagnostics.append(exc.diagnostic(shown, frame.line, 14, pointer="Taxonomy"))
    for node in walk(roots):
        node.item_type = taxonomy.get(node.depth)
    assign_roles(roots, LevelSpec.parse(levels))
    allocator = IdAllocator()
    allocate_ids(roots, allocator)

    values = frame.values
    scale, scale_kept = _scale(values["scale_values"], values["scale_configuration"], shown,
                               frame.line, diagnostics)
    if scale is None:
        from mastery_cli.interop.tree import DEFAULT_SCALE
        scale = DEFAULT_SCALE
        diagnostics.append(warning("moodle-no-scale", "the framework row has no scale values; "
                                   "a default 4-level scale is used", shown, frame.line, 6,
                                   pointer="Scale values"))
    title = values["shortname"].strip() or values["id_number"].strip() or "Moodle framework"
    framework_case = {"moodle": {
        "id_number": values["id_number"].strip(),
        **_keep(values, ("description", "description_format", "scale_values",
                         "scale_configuration", "exported_id", "taxonomy")),
        **({"scale": scale_kept} if scale_kept else {}),
    }}
    draft = Draft(
        framework_id=framework_id or slug(values["id_number"]) or slug(title) or "moodle",
        title=title, description=html_to_text(values["description"]) or None, roots=roots,
        scale=scale, case=framework_case,
    )
    # A framework with the id "policy" is written as policy.yaml: then the policy moves aside.
    policy_name = "policy.yaml" if draft.framework_id != "policy" else "moodle-policy.yaml"
    policy, rule_notes = _rules_as_policy(roots, lines, shown, draft.framework_id, policy_name,
                                          has_synthetic=any(n.role == "target" for n in roots))
    diagnostics.extend(rule_notes)
    placed = place(draft, allocator)
    files = framework_files(draft, placed, split=split, schema_ref="")
    if policy is not None:
        files.append((policy_name, policy))
    if draft.placeholder_count:
        diagnostics.append(warning(
            "placeholder-indicators",
            f"{draft.placeholder_count} target(s) got placeholder performance indicators "
            "('<level> — <statement>'); Moodle has no per-level descriptors", shown,
            hint="rewrite them under 'indicators:'; they are marked "
            "'case.placeholder_indicators: true'"))
    roles = [n.role for n in walk(roots)]
    counts = {
        "moodle_competencies": len(nodes),
        "competencies": roles.count("competency") + (1 if draft.synthetic else 0),
        "targets": roles.count("target"), "groups": roles.count("group"),
        "folded": roles.count("child"), "placeholder_indicators": draft.placeholder_count,
    }
    found = len(nodes)
    summary = summary_line(f"{found} Moodle competenc{'ies' if found != 1 else 'y'}", counts,
                           ("folded", "placeholder_indicators"))
    if policy is not None:
        summary += (f"; the competency rules as the roll-up of {policy_name}"
                    if "competency_rollup" in policy
                    else f"; the competency rules as roll-up overrides in {policy_name}")
    return ImportResult(files=files, diagnostics=diagnostics, counts=counts, summary=summary)


def _rules_as_policy(roots: list[Node], lines: dict[str, int], shown: str, framework_id: str,
                     policy_name: str, *, has_synthetic: bool
                     ) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """A policy for the rules that mean a roll-up; a warning for each rule without one.

    See ``moodle_rules``: when every competency's rule is the same roll-up it becomes the
    policy's ``competency_rollup``, otherwise each such competency gets its own override. Every
    rule also stays under ``case.moodle``.
    """
    found: list[tuple[Node, Rollup | None, str]] = []
    for node in walk(roots):
        stored = node.case.get("moodle", {})
        rule_type = str(stored.get("rule_type", "")).strip()
        if not rule_type:
            continue
        children = [Child(str(c.case.get("moodle", {}).get("exported_id", "")).strip(),
                          c.role == "target") for c in node.children]
        rollup, reason = rule_to_rollup(rule_type, str(stored.get("rule_outcome", "")),
                                        str(stored.get("rule_config", "")), children)
        found.append((node, rollup, reason))
    competencies = [n for n in walk(roots) if n.role == "competency"]
    by_competency = {node.id: rollup for node, rollup, _ in found
                     if node.role == "competency" and rollup is not None}
    rollups = {rollup for node, rollup, _ in found if node.role == "competency"}
    uniform = (len(rollups) == 1 and None not in rollups
               and len(by_competency) == len(competencies) and not has_synthetic)
    notes: list[Diagnostic] = []
    for node, rollup, reason in found:
        rule = RULE_NAMES.get(str(node.case["moodle"]["rule_type"]).strip(), "a custom rule")
        where = f"competency '{shortened(node.id or node.key)}'"
        if rollup is None:
            notes.append(warning(
                "moodle-rule-no-equivalent",
                f"{where}: its rule ({rule}) has no equivalent roll-up because {reason}; kept "
                "under case.moodle and written back on export", shown, lines.get(node.key), 8,
                pointer="Rule type (optional)"))
        elif node.role != "competency":
            notes.append(Diagnostic(
                shown, lines.get(node.key), 8, "moodle-rule-per-competency",
                f"{where}: its rule ({rule}) means it is met when {rollup.describe()}, but it "
                f"was placed as a {node.role or 'group'}, which has no roll-up; kept under "
                "case.moodle and written back on export", Severity.INFO,
                None, "Rule type (optional)"))
    if not by_competency:
        return None, notes
    if uniform:
        rollup = next(iter(rollups))
        assert rollup is not None
        notes.append(Diagnostic(
            shown, None, None, "moodle-rules-as-policy",
            f"every competency's Moodle rule means it is met when {rollup.describe()}: written "
            f"as the roll-up of {policy_name} ({rollup.method})", Severity.INFO,
            f"use it with 'mastery grade --policy {policy_name}'", "Rule type (optional)"))
        return policy_file(framework_id, rollup, len(by_competency)), notes
    methods = ", ".join(f"{c} {r.method}" + (f" n={r.n}" if r.n else "")
                        for c, r in by_competency.items())
    notes.append(Diagnostic(
        shown, None, None, "moodle-rules-as-policy",
        f"the Moodle rules of {len(by_competency)} of the {len(competencies)} competencies "
        f"differ: written as their roll-up overrides in {policy_name} ({methods})",
        Severity.INFO, f"use it with 'mastery grade --policy {policy_name}'",
        "Rule type (optional)"))
    return policy_file_per_competency(framework_id, by_competency, len(competencies)), notes


def _small_number(value: object) -> bool:
    """Whether ``value`` is a whole number of a few ASCII digits (a depth, a scale position):
    ``str.isdigit`` alone accepts '²', and a long one is past what int() reads."""
    text = str(value)
    return text.isascii() and text.isdigit() and len(text) <= 9


def _taxonomies(value: str) -> dict[int, str]:
    """Moodle's taxonomy per depth: "a,b,c" (current) or {"1": "a", …} (older plugin).

    Raises JsonProblem for JSON too deep or with too long a number."""
    value = value.strip()
    if value.startswith("{"):
        try:
            data = parse_json(value)
        except json.JSONDecodeError:
            return {}
        if not isinstance(data, dict):
            return {}
        return {int(k): str(v) for k, v in data.items() if _small_number(k)}
    return {n: term.strip() for n, term in enumerate(value.split(","), 1) if term.strip()}


# -- export -----------------------------------------------------------------------------------

def _moodle(case: dict[str, Any] | None) -> dict[str, Any]:
    data = (case or {}).get("moodle")
    return data if isinstance(data, dict) else {}


def _description(stored: dict[str, Any], text: str) -> tuple[str, str]:
    """(description, format): the HTML as Moodle wrote it while its text is unchanged."""
    raw = stored.get("description")
    if not text:
        return "", str(stored.get("description_format") or FORMAT_HTML)
    if isinstance(raw, str) and html_to_text(raw) == text:
        return raw, str(stored.get("description_format") or FORMAT_HTML)
    return html.escape(text, quote=False).replace("\n", "<br>"), FORMAT_HTML


def _scale_columns(scale: Scale | None, framework: Framework, stored: dict[str, Any]
                   ) -> tuple[str, str]:
    if scale is None:
        return "", ""
    labels = [framework.text(level.label).replace(",", ";") for level in scale.levels]
    mastery = scale.mastery_value
    kept: dict[str, Any] = stored["scale"] if isinstance(stored.get("scale"), dict) else {}
    mastery_index = next(i for i, lv in enumerate(scale.levels, 1) if lv.value == mastery)
    default = kept.get("default", mastery_index)
    proficient = set(kept.get("proficient") or
                     [i for i, lv in enumerate(scale.levels, 1) if lv.value >= mastery])
    config: list[dict[str, Any]] = [{"scaleid": str(kept.get("scale_id", "1"))}]
    for index, _level in enumerate(scale.levels, 1):
        config.append({"id": index, "scaledefault": 1 if index == default else 0,
                       "proficient": 1 if index in proficient else 0})
    return ",".join(labels), json.dumps(config, separators=(",", ":"))


def _row(parent: str, id_number: str, shortname: str, description: tuple[str, str],
         stored: dict[str, Any], *, scale: tuple[str, str] = ("", ""), is_framework: bool = False,
         taxonomy: str = "") -> list[str]:
    rule_type = str(stored.get("rule_type", ""))
    return [
        parent, id_number, shortname, description[0], description[1],
        scale[0] or str(stored.get("scale_values", "")),
        scale[1] or str(stored.get("scale_configuration", "")),
        rule_type, str(stored.get("rule_outcome", "0" if not is_framework else "")),
        # Moodle writes the JSON null for "no rule configuration" on every competency row.
        str(stored.get("rule_config", "" if is_framework else "null")),
        str(stored.get("cross_references", "")),
        str(stored.get("exported_id", "")), "1" if is_framework else "", taxonomy,
    ]


def _competency_rows(framework: Framework, competency: Competency, id_numbers: set[str]
                     ) -> Iterator[tuple[str, str, list[str]]]:
    """(id number, wanted parent, row) for a competency, its targets and their folded items."""
    stored = _moodle(competency.case)
    if not (competency.case or {}).get("synthetic"):
        id_number = str(stored.get("id_number") or competency.id)
        text = framework.text(competency.statement) or framework.text(competency.title)
        yield id_number, str(stored.get("parent", "")), _row(
            "", id_number, framework.text(competency.title), _description(stored, text), stored)
        parent_of_targets = id_number
    else:
        parent_of_targets = ""
    for target in competency.targets:
        t_stored = _moodle(target.case)
        id_number = str(t_stored.get("id_number") or target.id)
        shortname = framework.text(target.title) if target.title else (
            framework.text(target.statement)[:100])
        wanted = str(t_stored.get("parent", parent_of_targets))
        if wanted != parent_of_targets and wanted in id_numbers:
            wanted = parent_of_targets  # moved to another competency in the YAML
        yield id_number, wanted, _row("", id_number, shortname, _description(
            t_stored, framework.text(target.statement)), t_stored)
        for child in (target.case or {}).get("children") or []:
            if not isinstance(child, dict):
                continue
            c_stored = _moodle(child)
            child_id = str(c_stored.get("id_number") or child.get("human_coding_scheme")
                           or child.get("identifier") or "")
            if not child_id:
                continue
            text = str(child.get("full_statement") or child_id)
            yield child_id, str(c_stored.get("parent", id_number)), _row(
                "", child_id, str(child.get("abbreviated_statement") or text[:100]),
                _description(c_stored, text), c_stored)


def moodle_rows(framework: Framework, rollup: Rollup | PolicyRollups | None = None
                ) -> tuple[list[list[str]], list[Diagnostic]]:
    """The rows of Moodle's 14-column CSV (header first) for ``framework``.

    With ``rollup`` (a policy's competency roll-up, or its roll-ups with per-competency
    overrides), every competency gets the Moodle rule that stands for its roll-up (see
    ``moodle_rules``).
    """
    diagnostics: list[Diagnostic] = []
    stored = _moodle(framework.case)
    scale = framework.default_scale
    frame_id = str(stored.get("id_number") or framework.id)
    description = framework.text(framework.description)
    rows = [HEADER_14, _row(
        "", frame_id, framework.text(framework.title) or framework.id,
        _description(stored, description), {}, scale=_scale_columns(scale, framework, stored),
        is_framework=True, taxonomy=str(stored.get("taxonomy", "")),
    )]
    entries: list[tuple[str, str, list[str]]] = []
    for group in (framework.case or {}).get("groups") or []:
        if isinstance(group, dict):
            g_stored = _moodle(group)
            group_id = str(g_stored.get("id_number") or group.get("human_coding_scheme")
                           or group.get("identifier") or "")
            if group_id:
                text = str(group.get("full_statement") or group_id)
                entries.append((group_id, str(g_stored.get("parent", "")), _row(
                    "", group_id, str(group.get("abbreviated_statement") or text[:100]),
                    _description(g_stored, text), g_stored)))
    competency_ids = {str(_moodle(c.case).get("id_number") or c.id)
                      for c in framework.competencies.values()}
    for competency in framework.competencies.values():
        entries.extend(_competency_rows(framework, competency, competency_ids))
    known = {e[0] for e in entries}
    for id_number, parent, row in entries:
        if scale is not None and framework.scales and any(
                c.scale_id and c.scale_id != scale.id for c in framework.competencies.values()
                if str(_moodle(c.case).get("id_number") or c.id) == id_number):
            diagnostics.append(warning(
                "moodle-scale-per-competency",
                f"competency '{shortened(id_number)}' uses its own scale; Moodle gets the "
                "framework's",
                framework.files[0] if framework.files else framework.id))
        row[0] = parent if parent in known and parent != id_number else ""
        rows.append(row)
    if rollup is not None:
        plan = rollup if isinstance(rollup, PolicyRollups) else PolicyRollups(rollup)
        diagnostics.extend(_apply_rollup(framework, plan, entries))
    return rows, diagnostics


# Columns of a row (0-based) that the roll-up sets.
_RULE_TYPE, _RULE_OUTCOME, _RULE_CONFIG, _EXPORTED_ID = 7, 8, 9, 11


def _apply_rollup(framework: Framework, plan: PolicyRollups,
                  entries: list[tuple[str, str, list[str]]]) -> list[Diagnostic]:
    """Write each competency's roll-up (its override, else the policy's) as its rule; a stored
    rule that says the same is kept, and so is the rule of a competency whose roll-up has none.

    A points rule names the children by their "Exported id"; targets without one get the next
    free number, so that Moodle can resolve the rule when it imports the file.
    """
    problems: list[Diagnostic] = []
    where = framework.files[0] if framework.files else framework.id
    rows = {id_number: row for id_number, _, row in entries}
    numbers = [int(row[_EXPORTED_ID]) for row in rows.values() if row[_EXPORTED_ID].isdigit()]
    next_id = max(numbers, default=0) + 1
    for competency in framework.competencies.values():
        stored = _moodle(competency.case)
        rollup = plan.for_competency(competency.id)
        if rollup is None or (competency.case or {}).get("synthetic") or not competency.targets:
            continue
        comp_id = str(stored.get("id_number") or competency.id)
        row = rows.get(comp_id)
        if row is None:
            continue
        targets = {str(_moodle(t.case).get("id_number") or t.id) for t in competency.targets}
        children = [(i, r) for i, r in rows.items() if r[0] == comp_id]
        if any(i not in targets for i, _ in children):
            problems.append(warning(
                "moodle-rule-not-written",
                f"competency '{shortened(comp_id)}' has children in Moodle that are not its "
                "targets, so "
                f"no rule can say it is met when {rollup.describe()}; its stored rule (if any) is "
                "kept",
                where))
            continue
        current, _ = rule_to_rollup(row[_RULE_TYPE], row[_RULE_OUTCOME], row[_RULE_CONFIG],
                                    [Child(r[_EXPORTED_ID], True) for _, r in children])
        if current == rollup:
            continue  # the stored rule already says it: keep its bytes
        if rollup.method == "n_of_m":
            for _, child in children:
                if not child[_EXPORTED_ID]:
                    child[_EXPORTED_ID], next_id = str(next_id), next_id + 1
        rule = rollup_to_rule(rollup, [r[_EXPORTED_ID] for _, r in children])
        if rule is None:
            problems.append(warning(
                "moodle-rule-not-written",
                f"competency '{shortened(comp_id)}' has {len(children)} target(s), fewer than the "
                f"{rollup.n} the roll-up needs; its stored rule (if any) is kept", where))
            continue
        if row[_RULE_TYPE]:
            problems.append(warning(
                "moodle-rule-replaced",
                f"competency '{shortened(comp_id)}': its stored Moodle rule is replaced by "
                "the policy's "
                f"roll-up (met when {rollup.describe()})", where))
        outcome = row[_RULE_OUTCOME] if row[_RULE_OUTCOME] not in ("", "0") else OUTCOME_COMPLETE
        row[_RULE_TYPE], row[_RULE_CONFIG] = rule
        row[_RULE_OUTCOME] = outcome
    return problems


def moodle_csv_text(rows: list[list[str]]) -> str:
    """The CSV text, every cell formula-safe as grade's outputs are (a spreadsheet opened on
    the file would otherwise run ``=HYPERLINK(…)`` written in a statement)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([[neutralize_formula(cell) for cell in row] for row in rows])
    return buffer.getvalue()


def export_moodle_csv(framework: Framework, rollup: Rollup | PolicyRollups | None = None
                      ) -> tuple[str, list[Diagnostic]]:
    rows, diagnostics = moodle_rows(framework, rollup)
    return moodle_csv_text(rows), diagnostics

