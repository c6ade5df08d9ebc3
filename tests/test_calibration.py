"""`mastery calibrate`: the statistics against published values and independent oracles
(Krippendorff's own example; scikit-learn's quadratic kappa; counts by hand), and bad input
reported in place, never counted twice."""

from __future__ import annotations

import csv
import math
import re
import shutil
import subprocess
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from test_pipeline import FRAMEWORK, FRAMEWORK_FILE, write_csv
from typer.testing import CliRunner

from mastery_cli.calibration.pieces import Piece
from mastery_cli.calibration.statistics import (
    krippendorff_alpha,
    mean_pairwise_kappa,
    positions_for,
    quadratic_kappa,
)
from mastery_cli.cli import app
from mastery_cli.reports.pdf import pdf_available

REPO = Path(__file__).resolve().parents[1]
HEADER = ["student_id", "student_name", "target", "assessment", "date", "score", "rater"]
POINTS = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # the test framework's scale

#: Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the reliability data of
#: section C: 4 observers, 12 units, values 1-5, missing ratings as None.
RELIABILITY_DATA = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
PUBLISHED_ALPHA = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}


def _pieces_from_matrix(matrix: Sequence[Sequence[float | None]]) -> list[Piece]:
    pieces = []
    for unit in range(len(matrix[0])):
        ratings = {f"rater{r}": float(row[unit]) for r, row in enumerate(matrix)
                   if row[unit] is not None}
        pieces.append(Piece("T1", f"s{unit}", "", "task", "", "", ratings))
    return pieces


@pytest.mark.parametrize("level", sorted(PUBLISHED_ALPHA))
def test_alpha_reproduces_krippendorffs_published_example(level: str) -> None:
    alpha = krippendorff_alpha(_pieces_from_matrix(RELIABILITY_DATA), level)  # type: ignore[arg-type]
    assert alpha is not None
    assert round(alpha, 3) == PUBLISHED_ALPHA[level]


ratings_1_to_4 = st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=2,
                          max_size=40)


@settings(max_examples=200, deadline=None)
@given(ratings_1_to_4)
def test_quadratic_kappa_equals_scikit_learn(pairs: list[tuple[int, int]]) -> None:
    first = [float(a) for a, _ in pairs]
    second = [float(b) for _, b in pairs]
    ours = quadratic_kappa(first, second, positions_for([1, 2, 3, 4]))
    with np.errstate(all="ignore"):
        theirs = cohen_kappa_score(first, second, weights="quadratic", labels=[1, 2, 3, 4])
    if ours is None:
        assert math.isnan(theirs)
    else:
        assert ours == pytest.approx(theirs, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 0.5, 1, 1.5, 2]),
                          st.sampled_from([0, 0.5, 1, 1.5, 2])), min_size=2, max_size=30))
def test_kappa_weights_count_levels_on_a_half_point_scale(pairs: list[tuple[float, float]]
                                                          ) -> None:
    # Levels 0, 0.5, ... 2: one level apart is 0.5 points, as scikit-learn's label indices.
    levels = [0, 0.5, 1, 1.5, 2]
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    ours = quadratic_kappa(first, second, positions_for(levels))
    with np.errstate(all="ignore"):
        theirs = cohen_kappa_score([levels.index(a) for a in first],
                                   [levels.index(b) for b in second], weights="quadratic",
                                   labels=list(range(5)))
    assert (ours is None and math.isnan(theirs)) or ours == pytest.approx(theirs, abs=1e-12)


def test_kappa_with_three_raters_is_the_mean_over_pairs_sharing_two_pieces() -> None:
    pieces = _pieces_from_matrix([[1, 2, 3, 4, 2], [1, 3, 3, 4, 1], [2, 2, None, None, None]])
    expected = []
    for a, b in combinations(range(3), 2):
        shared = [p for p in pieces if f"rater{a}" in p.ratings and f"rater{b}" in p.ratings]
        if len(shared) >= 2:
            expected.append(cohen_kappa_score(
                [p.ratings[f"rater{a}"] for p in shared], [p.ratings[f"rater{b}"] for p in shared],
                weights="quadratic", labels=POINTS))
    assert mean_pairwise_kappa(pieces, positions_for(POINTS)) == pytest.approx(
        sum(expected) / len(expected))


# --------------------------------------------------------------------------- the command


def _run(tmp_path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER,
         *extra: str) -> tuple[int, str, Path]:
    scores = write_csv(tmp_path / "session.csv", rows, header)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["calibrate", str(scores), "--framework",
                                      str(FRAMEWORK_FILE), "--out", str(out), *extra])
    return result.exit_code, result.output, out


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _session(seed: int = 7, pieces: int = 15) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    rows: list[list[object]] = []
    for n in range(pieces):
        for target in ("T1", "T2"):
            truth = int(rng.integers(1, 5))
            for rater in ("Ada", "Ben", "Cy"):
                if rater == "Cy" and n % 4 == 0:
                    continue  # Cy missed some pieces
                value = min(5, max(0, truth + int(rng.choice([-2, -1, 0, 0, 0, 1]))))
                rows.append([f"S{n:02d}", f"Student {n}", target, "Essay", "2026-10-01",
                             value, rater])
    return rows


def _oracle(rows: Sequence[Sequence[object]], target: str | None) -> dict[str, float]:
    """The statistics computed from the rows directly: by hand, scikit-learn, krippendorff."""
    by_piece: dict[tuple[object, object], dict[str, float]] = {}
    for student, _, tgt, _, _, score, rater in rows:
        if target is None or tgt == target:
            by_piece.setdefault((student, tgt), {})[str(rater)] = float(str(score))
    pairs = [(x, y) for ratings in by_piece.values()
             for (_, x), (_, y) in combinations(sorted(ratings.items()), 2)]
    raters = sorted({r for ratings in by_piece.values() for r in ratings})
    kappas = []
    for a, b in combinations(raters, 2):
        shared = [p for p in by_piece.values() if a in p and b in p]
        if len(shared) >= 2:
            kappas.append(cohen_kappa_score([p[a] for p in shared], [p[b] for p in shared],
                                            weights="quadratic", labels=POINTS))
    matrix = [[p.get(r, np.nan) for p in by_piece.values() if len(p) >= 2] for r in raters]
    return {
        "exact": sum(x == y for x, y in pairs) / len(pairs),
        "adjacent": sum(abs(x - y) <= 1 for x, y in pairs) / len(pairs),
        "kappa_quadratic": sum(kappas) / len(kappas),
        **{f"alpha_{level}": krippendorff.alpha(reliability_data=matrix,
                                                level_of_measurement=level)
           for level in ("nominal", "ordinal", "interval")},
    }


def test_agreement_csv_equals_independent_computation(tmp_path: Path) -> None:
    rows = _session()
    code, output, out = _run(tmp_path, rows)
    assert code == 0, output
    agreement = {r["target"]: r for r in _read(out / "agreement.csv")}
    assert list(agreement) == ["T1", "T2", "ALL"]
    with (out / "agreement.csv").open(encoding="utf-8") as handle:
        assert handle.readline().strip() == ("target,pieces,raters,ratings,exact,adjacent,"
                                             "kappa_quadratic,alpha_nominal,alpha_ordinal,"
                                             "alpha_interval")
    for target in ("T1", "T2", None):
        row = agreement[target or "ALL"]
        for column, value in _oracle(rows, target).items():
            assert float(row[column]) == pytest.approx(value, abs=5e-5), (target, column)
    assert agreement["T1"]["pieces"] == "15"
    assert agreement["T1"]["raters"] == "3"
    assert int(agreement["ALL"]["ratings"]) == len(rows)


def test_raters_csv_bias_and_agreement(tmp_path: Path) -> None:
    rows = [["S1", "", "T1", "Essay", "2026-10-01", 3, "Ada"],
            ["S1", "", "T1", "Essay", "2026-10-01", 2, "Ben"],
            ["S1", "", "T1", "Essay", "2026-10-01", 2, "Cy"],
            ["S2", "", "T1", "Essay", "2026-10-01", 4, "Ada"],
            ["S2", "", "T1", "Essay", "2026-10-01", 4, "Ben"]]
    code, output, out = _run(tmp_path, rows)
    assert code == 0, output
    raters = {r["rater"]: r for r in _read(out / "raters.csv")}
    # Ada: +1, +1 on S1 and 0 on S2 -> bias 2/3; exact 1 of 3 pairs.
    assert raters["Ada"] == {"rater": "Ada", "ratings": "2", "compared": "3",
                             "bias": "0.6667", "exact": "0.3333", "adjacent": "1.0000"}
    assert raters["Cy"]["bias"] == "-0.5000"


def test_single_ratings_are_counted_and_left_out_of_the_statistics(tmp_path: Path) -> None:
    rows = [["S1", "", "T1", "Essay", "2026-10-01", 3, "Ada"],
            ["S1", "", "T1", "Essay", "2026-10-01", 3, "Ben"],
            ["S2", "", "T1", "Essay", "2026-10-01", 1, "Ada"],
            ["S2", "", "T1", "Essay", "2026-10-01", 2, "Ben"],
            ["S3", "", "T1", "Essay", "2026-10-01", 5, "Ada"]]
    code, output, out = _run(tmp_path, rows)
    assert code == 0, output
    row = _read(out / "agreement.csv")[0]
    assert (row["pieces"], row["ratings"], row["exact"], row["adjacent"]) == (
        "3", "5", "0.5000", "1.0000")
    assert "1 with one rating" in output


def test_a_piece_rated_twice_by_one_rater_is_reported_and_counted_once(tmp_path: Path) -> None:
    rows = [["S1", "", "T1", "Essay", "2026-10-01", 3, "Ada"],
            ["S1", "", "T1", "Essay", "2026-10-01", 3, "Ben"],
            ["S1", "", "T1", "Essay", "2026-10-01", 1, "Ben"]]
    code, output, out = _run(tmp_path, rows)
    assert code == 0
    assert "session.csv:4: warning [rated-twice]" in output
    row = _read(out / "agreement.csv")[0]
    assert (row["ratings"], row["exact"]) == ("2", "1.0000")


def test_off_scale_ratings_and_unknown_targets_are_reported_not_counted(tmp_path: Path) -> None:
    rows = [["S1", "", "T1", "Essay", "2026-10-01", 3, "Ada"],
            ["S1", "", "T1", "Essay", "2026-10-01", 9, "Ben"],
            ["S1", "", "T9", "Essay", "2026-10-01", 3, "Ben"]]
    code, output, out = _run(tmp_path, rows)
    assert code == 0
    assert re.search(r"session\.csv:3:\d+: warning \[score-off-scale\]", output)
    assert re.search(r"session\.csv:4:\d+: warning \[unknown-target\]", output)
    assert [r["target"] for r in _read(out / "agreement.csv")] == ["T1", "ALL"]
    assert _read(out / "agreement.csv")[0]["ratings"] == "1"


def test_a_file_without_a_rater_column_is_exit_1_and_writes_nothing(tmp_path: Path) -> None:
    rows = [["S1", "", "T1", "Essay", "2026-10-01", 3]]
    code, output, out = _run(tmp_path, rows, HEADER[:-1])
    assert code == 1
    assert "[no-rater-column] calibration needs a rater column" in output
    assert not out.exists()


def test_outputs_are_byte_identical_for_identical_input(tmp_path: Path) -> None:
    rows = _session(seed=3)
    first = tmp_path / "a"
    first.mkdir()
    second = tmp_path / "b"
    second.mkdir()
    _, _, out_a = _run(first, rows)
    _, _, out_b = _run(second, list(reversed(rows)))  # the order of the rows does not matter
    for name in ("agreement.csv", "raters.csv", "disagreements.csv", "calibration.html"):
        assert (out_a / name).read_bytes() == (out_b / name).read_bytes(), name


def test_work_id_names_the_piece(tmp_path: Path) -> None:
    header = ["work_id", *HEADER]
    rows = [["W1", "S1", "", "T1", "Essay", "2026-10-01", 1, "Ada"],
            ["W1", "S1", "", "T1", "Essay", "2026-10-02", 4, "Ben"],  # dated when scored
            ["W2", "S1", "", "T1", "Essay", "2026-10-01", 2, "Ada"],
            ["W2", "S1", "", "T1", "Essay", "2026-10-01", 2, "Ben"]]
    code, output, out = _run(tmp_path, rows, header)
    assert code == 0, output
    assert "ignored-columns" not in output
    assert _read(out / "agreement.csv")[0]["pieces"] == "2"
    disputed = _read(out / "disagreements.csv")
    assert [(d["work_id"], d["spread"], d["ratings"]) for d in disputed] == [
        ("W1", "3", "Ada=1; Ben=4")]


def test_disagreements_carry_the_rubrics_exemplars_and_escape_names(tmp_path: Path) -> None:
    rows = [["0041001", "<b>Kim</b>", "SCI.INQ.2", "Lab", "2026-10-01", 1, "=HYPERLINK()"],
            ["0041001", "<b>Kim</b>", "SCI.INQ.2", "Lab", "2026-10-01", 3, "z<script>x</script>"]]
    scores = write_csv(tmp_path / "session.csv", rows, HEADER)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "calibrate", str(scores), "--framework", str(REPO / "examples" / "framework"),
        "--rubric", str(REPO / "examples" / "rubrics" / "lab-report.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    disputed = _read(out / "disagreements.csv")
    assert disputed[0]["ratings"] == "'=HYPERLINK()=1; z<script>x</script>=3"
    exemplars = disputed[0]["exemplars"]  # level 1 has none; the file as the rubric names it
    assert exemplars.startswith("3: ") and "; " not in exemplars
    assert exemplars.endswith("examples/rubrics/exemplars/lab-report-level3.md")
    html = (out / "calibration.html").read_text(encoding="utf-8")
    assert "<script>x" not in html and "&lt;script&gt;x" in html
    assert "Follows a given procedure with reminders" in html  # the level-1 indicator
    # The link to the exemplar file works from the output folder.
    href = re.search(r'href="([^"]*lab-report-level3\.md)"', html)
    assert href is not None and (out / href.group(1)).resolve().is_file()
    assert "No exemplar for this level yet." in html  # level 1 has none


def test_the_example_session_runs(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "calibrate", str(REPO / "examples" / "calibration" / "lab-report-session.csv"),
        "--framework", str(REPO / "examples" / "framework"), "--rubric",
        str(REPO / "examples" / "rubrics" / "lab-report.yaml"), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    agreement = _read(tmp_path / "agreement.csv")
    assert agreement[-1]["target"] == "ALL" and agreement[-1]["raters"] == "3"
    assert len(_read(tmp_path / "disagreements.csv")) >= 3


@pytest.mark.skipif(not pdf_available(), reason="WeasyPrint cannot load its libraries here")
def test_pdf_is_written_with_the_pieces_to_discuss(tmp_path: Path) -> None:
    code, output, out = _run(tmp_path, _session(), HEADER, "--pdf")
    assert code == 0, output
    assert (out / "calibration.pdf").read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out / "calibration.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "Pieces to discuss first" in text and "Ada" in text


def test_framework_fixture_scale() -> None:
    assert FRAMEWORK.default_scale is not None and FRAMEWORK.default_scale.values == POINTS


def test_a_session_without_ratings_still_writes_the_all_row(tmp_path: Path) -> None:
    code, output, out = _run(tmp_path, [])
    assert code == 0
    assert "[nothing-double-scored]" in output
    assert _read(out / "agreement.csv") == [dict.fromkeys(
        ["target", "pieces", "raters", "ratings", "exact", "adjacent", "kappa_quadratic",
         "alpha_nominal", "alpha_ordinal", "alpha_interval"], "") | {
        "target": "ALL", "pieces": "0", "raters": "0", "ratings": "0"}]
