"""`mastery calibrate` as a library call: read the ratings, analyse them, write the results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mastery_cli.calibration.analysis import Calibration, analyse
from mastery_cli.calibration.html import calibration_html
from mastery_cli.calibration.pieces import WORK_ID_NAMES, Ratings, collect_pieces
from mastery_cli.calibration.tables import agreement_csv, disagreements_csv, raters_csv
from mastery_cli.diagnostics import Diagnostic, MasteryError, error, warning
from mastery_cli.framework.model import Framework, Rubric
from mastery_cli.grading.formats import ALIASES, normalize_header
from mastery_cli.grading.ingest import EvidenceSet, IngestConfig, extra_column, read_evidence
from mastery_cli.output import OutputFolder

RESULT_FILES = ("agreement.csv", "raters.csv", "disagreements.csv", "calibration.html")


@dataclass
class CalibrationRun:
    calibration: Calibration
    evidence: EvidenceSet
    diagnostics: list[Diagnostic]
    written: list[Path]
    left_out: int


def _work_id_ignored(diagnostic: Diagnostic) -> bool:
    """The reader's note that a work id column is not used: calibration uses it."""
    if diagnostic.code != "ignored-columns":
        return False
    listed = diagnostic.message.removeprefix("columns not used: ").split(", ")
    return all(normalize_header(name.strip("'")) in WORK_ID_NAMES for name in listed)


def read_ratings(files: Sequence[Path], framework: Framework,
                 config: IngestConfig | None = None) -> tuple[Ratings, EvidenceSet]:
    """The rated pieces in ``files``; every file must have a rater column (else exit 1)."""
    work_ids: dict[tuple[str, int], str] = {}
    for path in files:
        header, raters = extra_column(Path(path), ALIASES["rater"])
        if header and raters is None:
            raise MasteryError(error(
                "no-rater-column",
                "calibration needs a rater column (who gave each rating); this file has none",
                str(path), 1,
                hint="add a column 'rater' (or teacher, scorer, assessor) naming the teacher "
                     "who scored each row; each piece needs two raters or more",
            ))
        _, ids = extra_column(Path(path), WORK_ID_NAMES)
        for line, text in (ids or {}).items():
            if text:
                work_ids[(str(path), line)] = text
    evidence = read_evidence(list(files), framework, config or IngestConfig())
    return collect_pieces(evidence.frame, work_ids), evidence


def calibrate(files: Sequence[Path], framework: Framework, out: Path, *,
              rubrics: Sequence[Rubric] = (), pdf: bool = False,
              inputs: Sequence[Path] = (), title: str = "Calibration") -> CalibrationRun:
    """Analyse the double-scored work in ``files`` and write `RESULT_FILES` (plus
    calibration.pdf) into ``out``, all together or none."""
    names = [*RESULT_FILES, *(["calibration.pdf"] if pdf else [])]
    folder = OutputFolder(out, names=names, inputs=[*files, *inputs])
    with folder:
        ratings, evidence = read_ratings(files, framework)
        diagnostics = [d for d in evidence.diagnostics if not _work_id_ignored(d)]
        diagnostics += ratings.diagnostics
        result = analyse(ratings.pieces, framework, rubrics)
        if not any(len(p.ratings) >= 2 for p in result.pieces):
            diagnostics.append(warning(
                "nothing-double-scored",
                "no piece of work has two ratings: there is no agreement to measure",
                ", ".join(str(f) for f in files),
                hint="a piece is one student x target x assessment x date (or a work_id); "
                     "each needs ratings from two raters or more",
            ))
        folder.path("agreement.csv").write_text(agreement_csv(result), encoding="utf-8")
        folder.path("raters.csv").write_text(raters_csv(result), encoding="utf-8")
        folder.path("disagreements.csv").write_text(disagreements_csv(result),
                                                    encoding="utf-8")
        html = calibration_html(result, out, title)
        folder.path("calibration.html").write_text(html, encoding="utf-8")
        if pdf:
            from mastery_cli.staffdocs import write_pdf

            write_pdf(html, folder.path("calibration.pdf"), out)
        written = folder.commit()
    return CalibrationRun(result, evidence, diagnostics, written, ratings.left_out)
