"""The rules a JSON Schema cannot express: references, cycles, scales, coverage of levels.

Each check takes the assembled model and returns diagnostics placed on the YAML value at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from mastery_cli.diagnostics import Diagnostic, Severity, shortened
from mastery_cli.documents import DocumentSet
from mastery_cli.framework.model import (
    Framework,
    Origin,
    Rubric,
    Scale,
    family_texts,
    level_key,
)
from mastery_cli.suggest import did_you_mean
from mastery_cli.validation import languages

Check = Callable[[Framework, DocumentSet], list[Diagnostic]]


def _unresolved(
    sets: DocumentSet, origin: Origin | None, suffix: tuple[str | int, ...], what: str,
    value: str, known: Iterable[str],
) -> Diagnostic:
    return sets.at(
        origin, "unresolved-reference", f"{what} '{shortened(value)}' is not defined", suffix,
        hint=did_you_mean(value, known)
        or f"define it, or check the spelling of '{shortened(value)}'",
    )


def check_metadata(framework: Framework, sets: DocumentSet) -> list[Diagnostic]:
    problems = []
    first = Origin(framework.files[0], ()) if framework.files else None
    if framework.title is None:
        problems.append(sets.at(
            first, "missing-title", f"framework '{framework.id}' has no title in any of its files",
            hint="add 'title:' to the framework's main file", key=True,
        ))
    if not framework.scales:
        problems.append(sets.at(
            first, "missing-scale", f"framework '{framework.id}' defines no scale",
            hint="add a 'scales:' list (performance levels) to one of the framework's files "
            "and validate all its files together",
        ))
    if framework.default_scale_id and framework.default_scale_id not in framework.scales:
        origin = next((Origin(f, ()) for f in framework.files), None)
        for document in sets.of_kind("framework"):
            if document.path in framework.files and "default_scale" in (document.data or {}):
                origin = Origin(document.path, ())
        problems.append(_unresolved(sets, origin, ("default_scale",), "scale",
                                    framework.default_scale_id, framework.scales))
    return problems


def scale_is_intact(scale: Scale, sets: DocumentSet) -> bool:
    """Whether every level of the scale was read as written.

    A level with a malformed value or mastery flag has a schema error already; checks that
    depend on the whole scale (one mastery level, an indicator per level) would only add
    misleading errors about a scale the author did not write, so they skip it.
    """
    raw = sets.data_at(scale.origin, ("levels",))
    if not isinstance(raw, list) or len(raw) != len(scale.levels):
        return False
    for level in raw:
        value = level.get("value") if isinstance(level, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not isinstance(level.get("mastery", False), bool):
            return False
    return True


def check_scales(framework: Framework, sets: DocumentSet) -> list[Diagnostic]:
    problems = []
    for scale in framework.scales.values():
        if not scale_is_intact(scale, sets):
            continue
        values = scale.values
        for index in range(1, len(values)):
            if values[index] <= values[index - 1]:
                problems.append(sets.at(
                    scale.origin, "scale-order",
                    f"scale '{scale.id}': level values must increase strictly, but "
                    f"{level_key(values[index])} follows {level_key(values[index - 1])}",
                    ("levels", index, "value"),
                    hint="list the levels from lowest to highest, each with a larger value",
                ))
        marked = [i for i, level in enumerate(scale.levels) if level.mastery]
        if not marked:
            problems.append(sets.at(
                scale.origin, "scale-mastery",
                f"scale '{scale.id}' has no mastery level", ("levels",),
                hint="mark the level that means 'mastered' with 'mastery: true'", key=True,
            ))
        for index in marked[1:]:
            problems.append(sets.at(
                scale.origin, "scale-mastery",
                f"scale '{scale.id}' has more than one mastery level", ("levels", index, "mastery"),
                hint="mark only the lowest level that counts as mastered; levels above it count "
                "as mastered too",
            ))
    return problems


def check_competencies(framework: Framework, sets: DocumentSet) -> list[Diagnostic]:
    problems = []
    intact: dict[str, bool] = {}
    for competency in framework.competencies.values():
        if competency.scale_id and competency.scale_id not in framework.scales:
            problems.append(_unresolved(sets, competency.origin, ("scale",), "scale",
                                        competency.scale_id, framework.scales))
            continue
        scale = framework.scale_of(competency)
        if scale is None or not intact.setdefault(scale.id, scale_is_intact(scale, sets)):
            continue
        expected = {level.value for level in scale.levels}
        for target in competency.targets:
            given = set(target.indicators)
            missing = sorted(expected - given)
            if missing:
                keys = ", ".join(level_key(v) for v in missing)
                labels = ", ".join(f"{level_key(v)} {_label(framework, scale, v)}" for v in missing)
                problems.append(sets.at(
                    target.origin, "missing-indicator",
                    f"target '{target.id}' has no performance indicator for level"
                    f"{'s' if len(missing) > 1 else ''} {keys} of scale '{scale.id}'",
                    ("indicators",) if target.indicators else (),
                    hint=f"describe what work looks like at {labels} under 'indicators:'",
                    key=True,
                ))
            for value in sorted(given - expected):
                problems.append(sets.at(
                    target.origin, "unknown-level",
                    f"indicator for level {level_key(value)}, which scale '{scale.id}' "
                    f"does not have", ("indicators", level_key(value)),
                    hint="scale levels: " + ", ".join(level_key(v) for v in sorted(expected)),
                    key=True,
                ))
            for value in sorted(set(target.i_can_levels) - expected):
                problems.append(sets.at(
                    target.origin, "unknown-level",
                    f"'I can' statement for level {level_key(value)}, which scale "
                    f"'{scale.id}' does not have", ("i_can_levels", level_key(value)),
                    hint="scale levels: " + ", ".join(level_key(v) for v in sorted(expected)),
                    key=True,
                ))
            if target.i_can is None and not target.i_can_levels:
                problems.append(sets.at(
                    target.origin, "missing-i-can",
                    f"target '{target.id}' has no \"I can\" statement",
                    hint="add 'i_can:' with the target in a student's words; it appears on "
                    "report cards and \"I can\" sheets",
                    severity=Severity.WARNING, key=True,
                ))
    return problems


def _label(framework: Framework, scale: Scale, value: float) -> str:
    level = scale.level(value)
    return framework.text(level.label) if level is not None else ""


def check_references(framework: Framework, sets: DocumentSet) -> list[Diagnostic]:
    problems = []
    for target in framework.targets.values():
        for index, ref in enumerate(target.prerequisites):
            if ref not in framework.targets:
                others = (t for t in framework.targets if t != target.id)
                problems.append(_unresolved(sets, target.origin, ("prerequisites", index),
                                            "prerequisite target", ref, others))
            elif ref == target.id:
                problems.append(sets.at(
                    target.origin, "prerequisite-cycle",
                    f"target '{target.id}' lists itself as a prerequisite",
                    ("prerequisites", index),
                ))
    for progression in framework.progressions.values():
        for index, ref in enumerate(progression.targets):
            if ref not in framework.targets:
                hint_pool = framework.targets
                problem = _unresolved(sets, progression.origin, ("targets", index), "target",
                                      ref, hint_pool)
                if ref in framework.competencies:
                    problem = sets.at(
                        progression.origin, "unresolved-reference",
                        f"'{ref}' is a competency; progressions order learning targets",
                        ("targets", index), hint="list the competency's targets instead",
                    )
                problems.append(problem)
    for course in framework.courses.values():
        for index, ref in enumerate(course.competencies):
            if ref not in framework.competencies:
                if ref in framework.targets:
                    problems.append(sets.at(
                        course.origin, "unresolved-reference",
                        f"'{ref}' is a learning target, not a competency",
                        ("competencies", index), hint="move it to the course's 'targets:' list",
                    ))
                else:
                    problems.append(_unresolved(sets, course.origin, ("competencies", index),
                                                "competency", ref, framework.competencies))
        for index, ref in enumerate(course.targets):
            if ref not in framework.targets:
                problems.append(_unresolved(sets, course.origin, ("targets", index), "target",
                                            ref, framework.targets))
    return problems


def check_repeated_references(framework: Framework, sets: DocumentSet) -> list[Diagnostic]:
    """An id listed twice in one list of references, reported at the second one.

    Checked here rather than by the schema's ``uniqueItems``: editors compare YAML numbers, so
    ``[1.1, 1.10]`` would be "duplicate items" to them, while these are two ids as written.
    """
    lists: list[tuple[Origin | None, str, list[str]]] = []
    for target in framework.targets.values():
        lists.append((target.origin, "prerequisites", target.prerequisites))
    for progression in framework.progressions.values():
        lists.append((progression.origin, "targets", progression.targets))
    for course in framework.courses.values():
        lists.append((course.origin, "competencies", course.competencies))
        lists.append((course.origin, "targets", course.targets))
    problems = []
    for origin, name, references in lists:
        seen: set[str] = set()
        for index, ref in enumerate(references):
            if ref in seen:
                problems.append(sets.at(
                    origin, "repeated-reference", f"'{shortened(ref)}' is listed twice in "
                    f"'{name}'", (name, index), hint="list every item once",
                ))
            seen.add(ref)
    return problems


def check_cycles(framework: Framework, sets: DocumentSet) -> list[Diagnostic]:
    """No target may (transitively) come before itself, through prerequisites or progressions."""
    edges: dict[str, list[tuple[str, Origin | None, tuple[str | int, ...]]]] = {}
    for target in framework.targets.values():
        for index, ref in enumerate(target.prerequisites):
            if ref in framework.targets and ref != target.id:
                edges.setdefault(ref, []).append(
                    (target.id, target.origin, ("prerequisites", index)))
    for progression in framework.progressions.values():
        steps = progression.targets
        for index in range(1, len(steps)):
            if steps[index - 1] in framework.targets and steps[index] in framework.targets:
                edges.setdefault(steps[index - 1], []).append(
                    (steps[index], progression.origin, ("targets", index)))
    problems = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    reported: set[frozenset[str]] = set()
    for start in sorted(edges):
        if state.get(start):
            continue
        # Iterative depth-first search: a framework of thousands of targets must not hit
        # Python's recursion limit.
        path: list[str] = [start]
        iterators = [iter(edges.get(start, []))]
        state[start] = 1
        while iterators:
            step = next(iterators[-1], None)
            if step is None:
                state[path.pop()] = 2
                iterators.pop()
                continue
            node, origin, suffix = step
            if state.get(node) == 1:
                cycle = [*path[path.index(node):], node]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    problems.append(sets.at(
                        origin, "prerequisite-cycle",
                        "targets come before themselves: " + " → ".join(cycle), suffix,
                        hint="prerequisites and progressions together must not form a loop",
                    ))
            elif not state.get(node):
                state[node] = 1
                path.append(node)
                iterators.append(iter(edges.get(node, [])))
    return problems


def _metadata_origin(framework: Framework, sets: DocumentSet, key: str) -> Origin | None:
    """The file that gives the framework's ``key`` (the first one, as the builder reads it)."""
    for path in framework.files:
        data = sets.data_at(Origin(path, ()))
        if isinstance(data, dict) and key in data:
            return Origin(path, ())
    return None


def _language_name(code: str) -> str:
    name = languages.name_of(code)
    return f" ({name})" if name != code else ""


def _texts_in(framework: Framework, language: str) -> int:
    return sum(1 for item in family_texts(framework)
               if isinstance(item.text, Mapping) and language in item.text)


def _check_declared_languages(
    framework: Framework, sets: DocumentSet, written: set[str]
) -> tuple[list[Diagnostic], dict[str, str | None]]:
    """An error at each declared code that is no ISO 639 language, and what each one meant.

    ``written`` holds the languages the framework's texts use without declaring them: the
    code the author meant is usually among them (``languages: [en, sp]`` over ``es:`` texts).
    """
    origin = _metadata_origin(framework, sets, "languages")
    raw = sets.data_at(origin, ("languages",))
    if not isinstance(raw, list):
        return [], {}
    problems = []
    meant: dict[str, str | None] = {}
    for index, code in enumerate(raw):
        if not isinstance(code, str) or not languages.CODE_FORM.match(code):
            continue  # the schema reports a code that is not in the form of one
        if languages.is_known(code):
            continue
        guess = languages.suggest(code, written)
        meant[code] = guess
        if guess is not None:
            uses = _texts_in(framework, guess)
            under = _texts_in(framework, code)
            hint = f"did you mean '{guess}'{_language_name(guess)}?" + (
                f" {uses} text{'s are' if uses != 1 else ' is'} written in '{guess}'"
                if uses else "") + (
                f" Then write the {under} text{'s' if under != 1 else ''} under '{code}' "
                f"as '{guess}' too" if under else "")
        else:
            hint = ("use an ISO 639 language code such as en, es, fr, zh, with a region "
                    "if needed (es-MX)")
        problems.append(sets.at(
            origin, "unknown-language",
            f"'{code}' is not an ISO 639 language code", ("languages", index), hint=hint,
        ))
    return problems, meant


def check_languages(framework: Framework, sets: DocumentSet) -> list[Diagnostic]:
    """Texts should be given in every declared language (see ``FamilyText`` for which).

    The same texts and test as the warning of ``mastery report --lang``. Texts are checked
    against the declared codes that are languages: a mistyped code is one error at
    'languages', not a warning at every text.
    """
    texts = [item for item in family_texts(framework) if item.text is not None]
    written = {lang for item in texts if isinstance(item.text, Mapping) for lang in item.text}
    problems, meant = _check_declared_languages(
        framework, sets, written - set(framework.languages))
    declared = [lang for lang in framework.languages if lang not in meant]
    excused = {guess for guess in meant.values() if guess is not None}
    default = framework.default_language
    # Text under 'es' serves a declared 'es-MX' (as report --lang es-MX reads it).
    understood = {*framework.languages, *(lang.split("-")[0] for lang in framework.languages),
                  *excused}
    for item in texts:
        text = item.text
        if isinstance(text, Mapping) and all(lang in text for lang in declared) and all(
                lang in understood for lang in text):
            continue  # the usual case, answered without building anything
        origin = item.origin or _metadata_origin(framework, sets, str(item.pointer[0]))
        missing = item.missing_languages(declared, default)
        if isinstance(text, str):
            if missing and isinstance(sets.data_at(origin, item.pointer), str):
                # (A title the builder filled in from the id was not written: not checked.)
                problems.append(sets.at(
                    origin, "missing-translation",
                    f"no {', '.join(missing)} text here: plain text is read as '{default}'; "
                    f"the framework declares {', '.join(declared)}", item.pointer,
                    hint="write a map of language to text, e.g. {"
                    + ", ".join(f'{lang}: "…"' for lang in declared)
                    + f"}}; families reading {', '.join(missing)} see the {default} text",
                    severity=Severity.WARNING,
                ))
            continue
        assert text is not None
        extra = [lang for lang in text if lang not in understood]
        mistyped = _mistyped_languages(extra, missing)
        missing = [lang for lang in missing if lang not in mistyped.values()]
        if missing:
            problems.append(sets.at(
                origin, "missing-translation",
                f"no {', '.join(missing)} text here; the framework declares "
                f"{', '.join(declared)}", item.pointer,
                hint="families reading other languages will see the default language instead",
                severity=Severity.WARNING,
            ))
        for lang, guess in mistyped.items():
            problems.append(sets.at(
                origin, "undeclared-language",
                f"text in '{lang}', which is not an ISO 639 language code", item.pointer,
                hint=f"did you mean '{guess}'{_language_name(guess)}?",
                severity=Severity.WARNING,
            ))
        extra = [lang for lang in extra if lang not in mistyped]
        if extra:
            problems.append(sets.at(
                origin, "undeclared-language",
                f"text in {', '.join(extra)}, which the framework's 'languages' does not list",
                item.pointer, hint=f"add {', '.join(extra)} to 'languages:' or remove the text",
                severity=Severity.WARNING,
            ))
    return problems


def _mistyped_languages(extra: list[str], missing: list[str]) -> dict[str, str]:
    """Undeclared codes that are no language but mean a declared one missing here (sp → es)."""
    if not extra or not missing:
        return {}
    found = {}
    for lang in extra:
        if languages.CODE_FORM.match(lang) and not languages.is_known(lang):
            guess = languages.suggest(lang, missing)
            if guess in missing:
                found[lang] = guess
    return found


FRAMEWORK_CHECKS: tuple[Check, ...] = (
    check_metadata, check_scales, check_competencies, check_references,
    check_repeated_references, check_cycles, check_languages,
)


def check_framework(framework: Framework, sets: DocumentSet) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for check in FRAMEWORK_CHECKS:
        problems.extend(check(framework, sets))
    return problems


def check_rubric(
    rubric: Rubric, frameworks: Mapping[str, Framework], sets: DocumentSet
) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    if rubric.framework_id is not None:
        framework = frameworks.get(rubric.framework_id)
        if framework is None:
            if sets.may_define(rubric.framework_id):
                return problems  # the framework may be in a file with an error of its own
            if frameworks:
                problems.append(_unresolved(sets, rubric.origin, ("framework",), "framework",
                                            rubric.framework_id, frameworks))
            else:
                problems.append(sets.at(
                    rubric.origin, "framework-not-loaded",
                    f"framework '{rubric.framework_id}' was not among the files checked, so "
                    "the criteria's targets cannot be checked", ("framework",),
                    hint="validate the rubric together with its framework files "
                    "(e.g. 'mastery validate .')", severity=Severity.WARNING,
                ))
            return problems
    elif len(frameworks) == 1:
        framework = next(iter(frameworks.values()))
    elif not frameworks and sets.may_define(None):
        return problems
    else:
        problems.append(sets.at(
            rubric.origin, "framework-not-loaded",
            "cannot tell which framework this rubric belongs to" if frameworks else
            "no framework was among the files checked, so the criteria cannot be checked",
            hint="add 'framework: <id>' to the rubric and validate it with its framework",
            severity=Severity.WARNING, key=True,
        ))
        return problems
    seen: set[str] = set()
    for criterion in rubric.criteria:
        if criterion.id in seen:
            problems.append(sets.at(criterion.origin, "duplicate-id",
                                    f"criterion id '{criterion.id}' is used twice", ("id",)))
        seen.add(criterion.id)
        target = framework.targets.get(criterion.target)
        if target is None:
            problems.append(_unresolved(sets, criterion.origin, ("target",), "target",
                                        criterion.target, framework.targets))
            continue
        if rubric.scale_id is not None:
            scale = framework.scales.get(rubric.scale_id)
            if scale is None:
                problems.append(_unresolved(sets, rubric.origin, ("scale",), "scale",
                                            rubric.scale_id, framework.scales))
                return problems
        else:
            scale = framework.target_scale(target)
        if scale is None:
            continue
        expected = {level.value for level in scale.levels}
        if not scale_is_intact(scale, sets):
            continue
        if rubric.design == "rated" and criterion.levels:
            # No levels at all is the schema's to report ('levels' is required).
            given = [level.value for level in criterion.levels]
            if set(given) != expected or len(given) != len(set(given)):
                missing = sorted(expected - set(given))
                extra = sorted(set(given) - expected)
                parts = []
                if missing:
                    parts.append("missing " + ", ".join(level_key(v) for v in missing))
                if extra:
                    parts.append("not on the scale: " + ", ".join(level_key(v) for v in extra))
                if len(given) != len(set(given)):
                    parts.append("a level is given twice")
                problems.append(sets.at(
                    criterion.origin, "rubric-levels-mismatch",
                    f"criterion '{criterion.id}' levels do not match scale '{scale.id}' "
                    f"({'; '.join(parts)})", ("levels",),
                    hint="give exactly one rated level per scale level: "
                    + ", ".join(level_key(v) for v in sorted(expected)), key=True,
                ))
        for index, exemplar in enumerate(criterion.exemplars):
            if exemplar.level not in expected:
                problems.append(sets.at(
                    criterion.origin, "unknown-level",
                    f"exemplar pegged to level {level_key(exemplar.level)}, which scale "
                    f"'{scale.id}' does not have", ("exemplars", index, "level"),
                    hint="scale levels: " + ", ".join(level_key(v) for v in sorted(expected)),
                ))
    from mastery_cli.validation.exemplars import check_exemplar_files

    problems.extend(check_exemplar_files(rubric, sets))
    return problems
