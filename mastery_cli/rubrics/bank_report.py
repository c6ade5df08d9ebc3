"""`mastery report exemplars`: the exemplar bank as exemplars.html (and .pdf) and
exemplars.csv (one row per target and level, with the exemplars or none)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mastery_cli.csvout import csv_text
from mastery_cli.framework.model import Framework, Rubric
from mastery_cli.output import OutputFolder
from mastery_cli.rubrics.bank import exemplar_bank, unscored_targets
from mastery_cli.staffdocs import render_staff_document

BANK_COLUMNS = ("target", "level", "label", "exemplars", "notes")


def write_exemplar_bank(framework: Framework, rubrics: Sequence[Rubric], out: Path, *,
                        pdf: bool = False, inputs: Sequence[Path] = (), lang: str = "en",
                        title: str = "Exemplar bank") -> list[Path]:
    names = ["exemplars.html", "exemplars.csv", *(["exemplars.pdf"] if pdf else [])]
    with OutputFolder(out, names=names, inputs=inputs) as folder:
        bank = exemplar_bank(framework, rubrics, out, lang)
        listing = exemplar_bank(framework, rubrics, None, lang)  # paths as the rubric gives them
        rows = [(t.id, lv.key, lv.label, "; ".join(e.href for e in lv.exemplars),
                 " | ".join(e.note for e in lv.exemplars))
                for t in listing for lv in t.levels]
        folder.path("exemplars.csv").write_text(csv_text(BANK_COLUMNS, rows), encoding="utf-8")
        levels = [level for t in bank for level in t.levels]
        html = render_staff_document("exemplars.html.j2", {
            "lang": lang, "title": title, "bank": bank,
            "rubrics": [framework.text(r.title, lang) for r in rubrics],
            "levels": len(levels), "with_exemplars": sum(1 for lv in levels if lv.exemplars),
            "missing": [t for t in bank if t.missing],
            "unscored": [(ident, framework.text(name, lang))
                         for ident, name in unscored_targets(framework, rubrics)],
        })
        folder.path("exemplars.html").write_text(html, encoding="utf-8")
        if pdf:
            from mastery_cli.staffdocs import write_pdf

            write_pdf(html, folder.path("exemplars.pdf"), out)
        return folder.commit()
