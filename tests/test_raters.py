"""Double-scored work counts once: rows of one student, target, assessment and date scored by
different raters are one piece of evidence, its score resolved by the policy's ``raters`` rule
(mean, median, highest, lowest, moderator). Values are checked against exact `Fraction`
arithmetic; rows without a rater must grade exactly as before.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pipeline import FRAMEWORK, FRAMEWORK_FILE, write_csv
from test_policy import check
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.grading.explain import explain_target
from mastery_cli.grading.outputs import write_outputs
from mastery_cli.grading.pipeline import GradeResult, grade
from mastery_cli.grading.policy import Policy, policy_from_data

REPO = Path(__file__).resolve().parents[1]
HEADER = ["student_id", "student_name", "target", "assessment", "type", "date", "score",
          "rater"]
RULES = ("mean", "median", "highest", "lowest", "moderator")

Row = Sequence[object]


def policy(raters: Mapping[str, Any] | None = None, method: str = "latest") -> Policy:
    data: dict[str, Any] = {"method": method}
    if raters is not None:
        data["raters"] = dict(raters)
    built, problems = policy_from_data(data)
    assert built is not None, problems
    return built


def graded(tmp_path: Path, rows: Sequence[Row], raters: Mapping[str, Any] | None = None,
           method: str = "latest", header: Sequence[str] = HEADER) -> GradeResult:
    file = write_csv(tmp_path / "scores.csv", rows, header)
    return grade([file], FRAMEWORK, policy(raters, method))


def piece(ratings: Sequence[tuple[str, str]], student: str = "S1", target: str = "T1",
          assessment: str = "Unit 2 test", date: str = "2026-10-03") -> list[Row]:
    """The rows of one piece of work, one per (rater, score)."""
    return [[student, f"Student {student}", target, assessment, "summative", date, score, rater]
            for rater, score in ratings]


def oracle(ratings: Sequence[tuple[str, str]], resolve: str,
           moderator: str | None = None) -> Fraction:
    """The piece's score, in exact arithmetic."""
    values = sorted(Fraction(score) for _, score in ratings)

    def mean(chosen: Sequence[Fraction]) -> Fraction:
        return sum(chosen, Fraction(0)) / len(chosen)

    if resolve == "highest":
        return values[-1]
    if resolve == "lowest":
        return values[0]
    if resolve == "median":
        middle = len(values) // 2
        return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    if resolve == "moderator":
        assert moderator is not None
        own = [Fraction(s) for r, s in ratings if r.casefold() == moderator.casefold()]
        return mean(own) if own else mean(values)
    return mean(values)


def half_up(value: Fraction, places: int = 2) -> str:
    """``value`` rounded half up to ``places``, as the result files write it."""
    units = math.floor(value * 10**places + Fraction(1, 2))
    return str(Decimal(units).scaleb(-places))


def used_rows(result: GradeResult) -> list[dict[str, Any]]:
    ev = result.evidence
    return ev.loc[ev["used"].to_numpy(dtype=bool)].sort_values("seq").to_dict("records")


def target_row(result: GradeResult, student: str = "S1", target: str = "T1") -> dict[str, Any]:
    rows = result.targets
    match = rows.loc[(rows["student_id"] == student) & (rows["target"] == target)]
    assert len(match) == 1
    return dict(match.iloc[0].to_dict())


def written_score(tmp_path: Path, result: GradeResult, student: str = "S1",
                  target: str = "T1") -> str:
    out = tmp_path / "out"
    write_outputs(result, out)
    for line in (out / "target_grades.csv").read_text().splitlines()[1:]:
        fields = line.split(",")
        if fields[0] == student and fields[2] == target:
            return fields[5]
    raise AssertionError(f"no result for {student} {target}")


# ------------------------------------------------------------------------------ each rule

TWO = [("Lee", "2.67"), ("Kim", "2.68")]
THREE = [("Lee", "4"), ("Kim", "1.25"), ("Ng", "2.5")]
FOUR = [("Lee", "3.5"), ("Kim", "1.25"), ("Ng", "2.67"), ("Ross", "2.68")]


@pytest.mark.parametrize("ratings", [TWO, THREE, FOUR], ids=["two", "three", "four"])
@pytest.mark.parametrize("resolve", RULES)
def test_each_rule_gives_the_exact_value(tmp_path: Path, ratings: list[tuple[str, str]],
                                         resolve: str) -> None:
    raters = {"resolve": resolve, **({"moderator": "Kim"} if resolve == "moderator" else {})}
    result = graded(tmp_path, piece(ratings), raters)
    exact = oracle(ratings, resolve, "Kim")
    [row] = used_rows(result)
    assert row["score"] == float(exact)  # the double nearest the exact value
    assert row["rating"] == float(ratings[0][1])  # the first row keeps its own rating too
    target = target_row(result)
    assert target["evidence_count"] == 1
    assert written_score(tmp_path, result) == half_up(exact)


def test_the_mean_of_two_hundredths_is_exact_through_rounding(tmp_path: Path) -> None:
    """2.67 and 2.68 average to exactly 2.675, which shows as 2.68 (not 2.67); the mean of
    1.3 and 1.6 is 1.45, which reaches level 2 (cut point 1.5 at 1 place)."""
    result = graded(tmp_path, piece(TWO))
    assert written_score(tmp_path, result) == "2.68"
    assert Fraction(used_rows(result)[0]["score"]) != Fraction("2.675")  # binary, yet...
    assert used_rows(result)[0]["score"] == float(Fraction("2.675"))  # ...the nearest double
    halves, _ = policy_from_data({"method": "latest", "rounding": {"places": 1},
                                  "levels": {"cut_points": {"2": 1.5}}})
    assert halves is not None
    file = write_csv(tmp_path / "halves.csv", piece([("Lee", "1.3"), ("Kim", "1.6")]), HEADER)
    row = target_row(grade([file], FRAMEWORK, halves))
    assert row["level"] == 2.0  # 1.45 shows as 1.5 at 1 place


@settings(max_examples=60, deadline=None)
@given(
    pieces=st.lists(
        st.lists(st.tuples(st.sampled_from(["Lee", "Kim", "Ng", "Ross"]),
                           st.integers(0, 400).map(lambda n: f"{n / 100:.2f}")),
                 min_size=2, max_size=4, unique_by=lambda rating: rating[0]),
        min_size=1, max_size=6),
    resolve=st.sampled_from(RULES),
    moderator=st.sampled_from(["Lee", "kim", "Absent"]),
)
def test_every_rule_matches_exact_arithmetic(tmp_path_factory: pytest.TempPathFactory,
                                             pieces: list[list[tuple[str, str]]],
                                             resolve: str, moderator: str) -> None:
    """Random pieces of two to four raters with whole, half and two-decimal scores: each
    piece's score is the double nearest the exact value, and its result file shows the exact
    value rounded half up."""
    tmp_path = tmp_path_factory.mktemp("raters")
    rows = [row for k, ratings in enumerate(pieces)
            for row in piece(ratings, student=f"S{k}")]
    result = graded(tmp_path, rows, {"resolve": resolve, "moderator": moderator})
    used = {row["student_id"]: row for row in used_rows(result)}
    assert len(used) == len(pieces)
    assert result.counts.used == len(pieces)
    assert result.counts.set_aside == len(rows) - len(pieces)
    out = tmp_path / "out"
    write_outputs(result, out)
    written = {line.split(",")[0]: line.split(",")[5]
               for line in (out / "target_grades.csv").read_text().splitlines()[1:]}
    for k, ratings in enumerate(pieces):
        exact = oracle(ratings, resolve, moderator)
        assert used[f"S{k}"]["score"] == float(exact), ratings
        assert written[f"S{k}"] == half_up(exact), ratings


# ------------------------------------------------------------------------------ what a piece is


def test_evidence_count_counts_pieces_of_work(tmp_path: Path) -> None:
    rows = [
        ["S1", "Ann", "T1", "Quiz 1", "summative", "2026-09-08", "2", ""],
        *piece([("Lee", "3"), ("Kim", "2")]),
        *piece([("Lee", "4"), ("Kim", "1"), ("Ng", "2")], assessment="Unit 3 test",
               date="2026-11-03"),
    ]
    result = graded(tmp_path, rows, method="average")
    row = target_row(result)
    assert row["evidence_count"] == 3
    # (2 + 2.5 + 7/3) / 3
    assert row["score"] == pytest.approx(float((2 + Fraction(5, 2) + Fraction(7, 3)) / 3))
    counts = result.counts
    assert (counts.rows_read, counts.used, counts.set_aside, counts.rejected) == (6, 3, 3, 0)


def test_the_other_ratings_are_set_aside_with_their_rater(tmp_path: Path) -> None:
    result = graded(tmp_path, piece([("Lee", "3"), ("Kim", "2"), ("Ng", "4")]))
    out = tmp_path / "out"
    write_outputs(result, out)
    lines = (out / "rejects.csv").read_text().replace(f"{tmp_path}/", "").splitlines()
    message = ("another rating of the same piece of work: the piece counts once, with its "
               "ratings resolved by the policy's 'raters' rule")
    assert lines[1:] == [f'scores.csv,3,S1,rater,Kim,another-rater,"{message}"',
                         f'scores.csv,4,S1,rater,Ng,another-rater,"{message}"']
    [row] = used_rows(result)
    assert (row["row"], row["rater"], row["score"]) == (2, "Lee", 3.0)


def test_what_is_not_one_piece_of_work_stays_as_it_was(tmp_path: Path) -> None:
    rows = [
        *piece([("Lee", "3"), ("Lee", "1")]),  # one rater twice: two pieces, as before
        *piece([("Lee", "2")], assessment="Essay"),  # another assessment
        *piece([("Kim", "4")], assessment="Essay", date="2026-10-04"),  # another day
        *piece([("", "1"), ("Kim", "2")], assessment="Lab"),  # no rater: its own piece
        *piece([("Lee", "1"), ("Kim", "3")], assessment="", date=""),  # nothing names it
    ]
    result = graded(tmp_path, rows, method="average")
    assert result.counts.used == len(rows)
    assert target_row(result)["evidence_count"] == len(rows)
    assert not (result.evidence["reason"] == "another-rater").any()


def test_a_rating_set_aside_for_another_reason_does_not_join_the_piece(tmp_path: Path) -> None:
    rows = piece([("Lee", "3"), ("Kim", "EX"), ("Ng", "1")])
    result = graded(tmp_path, rows)
    [row] = used_rows(result)
    assert row["score"] == 2.0  # the mean of Lee's 3 and Ng's 1; Kim excused it
    reasons = result.evidence.sort_values("seq")["reason"].astype(str).tolist()
    assert reasons == ["", "excused", "another-rater"]


def test_the_first_row_in_the_file_carries_the_piece_in_evidence_order(tmp_path: Path) -> None:
    """Pieces keep the place of their first row: on the same date, file then row order."""
    rows = [
        *piece([("Kim", "1")], assessment="A"),
        *piece([("Lee", "4")], assessment="B"),
        *piece([("Kim", "2")], assessment="B"),
    ]
    result = graded(tmp_path, rows)  # latest: the last piece in evidence order
    assert target_row(result)["score"] == 3.0
    rows = [rows[1], rows[0], rows[2]]
    assert target_row(graded(tmp_path, rows))["score"] == 1.0


def test_moderator_rating_counts_else_the_mean(tmp_path: Path) -> None:
    rows = [*piece([("Ms. Lee", "3"), ("Kim", "2")]),
            *piece([("Kim", "2"), ("Ng", "1")], assessment="Unit 3 test", date="2026-11-03")]
    result = graded(tmp_path, rows, {"resolve": "moderator", "moderator": " ms. lee "},
                    method="average")
    scores = [row["score"] for row in used_rows(result)]
    assert scores == [3.0, 1.5]


# ---------------------------------------------------------------------- rows without a rater


def test_rows_without_rater_grade_as_before(tmp_path: Path) -> None:
    """A blank rater column, or none at all, under any rule: the same files, byte for byte."""
    rows = [[*row[:7]] for k in range(3) for row in piece(
        [("", "3"), ("", "2.5"), ("", "2")], student=f"S{k}")]
    rows += [[*row[:7]] for row in piece([("", "1")], assessment="", date="")]
    outputs = []
    for k, (header, body, raters) in enumerate([
        (HEADER[:7], rows, None),
        (HEADER, [[*row, ""] for row in rows], None),
        (HEADER, [[*row, ""] for row in rows], {"resolve": "moderator", "moderator": "Lee"}),
        (HEADER[:7], rows, {"resolve": "highest"}),
    ]):
        result = graded(tmp_path, body, raters, method="average", header=header)
        out = tmp_path / f"out{k}"
        write_outputs(result, out)
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
        assert result.counts.used == len(rows)
    assert all(o == outputs[0] for o in outputs)


def test_the_example_school_grades_as_before_with_every_rule(tmp_path: Path) -> None:
    """The example school's files have no rater column: the rule changes nothing."""
    runner = CliRunner()
    base = ["grade", *map(str, sorted((REPO / "examples" / "gradebook").glob("*.csv"))),
            "--framework", str(REPO / "examples" / "framework")]
    text = (REPO / "examples" / "policy.yaml").read_text(encoding="utf-8")
    outputs = []
    assert "raters:\n  resolve: mean\n" in text
    for k, rule in enumerate(["resolve: mean", "resolve: lowest", "{resolve: moderator, "
                              "moderator: Lee}"]):
        policy_file = tmp_path / f"policy{k}.yaml"
        policy_file.write_text(text.replace("resolve: mean", rule), encoding="utf-8")
        out = tmp_path / f"out{k}"
        result = runner.invoke(app, [*base, "--policy", str(policy_file), "--out", str(out)])
        assert result.exit_code == 0, result.output
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1] == outputs[2]


# ------------------------------------------------------------------------------ explain


def explained(tmp_path: Path, rows: Sequence[Row], raters: Mapping[str, Any] | None = None,
              student: str = "S1", target: str = "T1") -> list[str]:
    result = graded(tmp_path, rows, raters, method="average")
    return explain_target(result, student, target).replace(f"{tmp_path}/", "").splitlines()


def test_explain_shows_each_rating_and_the_resolution(tmp_path: Path) -> None:
    rows = [["S1", "Ann", "T1", "Quiz 1", "summative", "2026-09-08", "2", ""],
            *piece([("Lee", "3"), ("Kim", "2")])]
    lines = explained(tmp_path, rows)
    assert lines[2:6] == [
        "Evidence used, oldest first (by date, then file and row):",
        "  1. 2026-09-08  Quiz 1 (summative)  score 2.00   [scores.csv:2]",
        "  2. 2026-10-03  Unit 2 test (summative)  score 2.50: rated 3 (Lee) and 2 (Kim) -> "
        "2.5, the mean   [scores.csv:3, scores.csv:4]",
        "Rows of this student for this target: 3 = 3 used (ratings of 2 pieces of work) + 0 set "
        "aside + 0 rejected.",
    ]
    assert not any("another-rater" in line for line in lines)  # not listed twice
    assert "  Scores, oldest first: 2.00 (2026-09-08), 2.50 (2026-10-03)" in lines


@pytest.mark.parametrize(("raters", "resolution"), [
    ({"resolve": "median"}, "-> 2.5, the median"),
    ({"resolve": "highest"}, "-> 4, the highest"),
    ({"resolve": "lowest"}, "-> 1.25, the lowest"),
    ({"resolve": "mean"}, "-> 2.583333333…, the mean"),
    ({"resolve": "moderator", "moderator": "ng"}, "-> 2.5, the moderator's rating (Ng)"),
    ({"resolve": "moderator", "moderator": "Ross"},
     "-> 2.583333333…, the mean (the moderator, Ross, did not rate this work)"),
])
def test_explain_names_the_rule_for_three_raters(tmp_path: Path, raters: dict[str, str],
                                                 resolution: str) -> None:
    lines = explained(tmp_path, piece(THREE), raters)
    assert lines[3] == ("  1. 2026-10-03  Unit 2 test (summative)  score "
                        f"{half_up(oracle(THREE, raters['resolve'], raters.get('moderator')))}"
                        f": rated 4 (Lee), 1.25 (Kim) and 2.5 (Ng) {resolution}   "
                        "[scores.csv:2, scores.csv:3, scores.csv:4]")


def test_explain_on_the_command_line_shows_the_exact_mean(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "scores.csv", piece(TWO), HEADER)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("kind: policy\nschema_version: 1\nid: p\nframework: test-school\n"
                           "method: latest\nraters: {resolve: mean}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["explain", "S1", "T1", str(file), "--framework",
                                      str(FRAMEWORK_FILE), "--policy", str(policy_file)])
    assert result.exit_code == 0, result.output
    assert ("2026-10-03  Unit 2 test (summative)  score 2.68: rated 2.67 (Lee) and 2.68 (Kim) "
            "-> 2.675, the mean") in result.output
    assert "Result: 2.68" in result.output


# ------------------------------------------------------------------------------ the policy


def test_moderator_rule_needs_a_moderator_at_its_line(tmp_path: Path) -> None:
    assert check(tmp_path, "raters:\n  resolve: moderator\n") == [
        "policy.yaml:6:12 [policy-raters] resolve: moderator needs 'moderator', the name of "
        "the rater whose rating counts"]


def test_unknown_rule_and_blank_moderator_are_schema_errors_at_their_lines(
        tmp_path: Path) -> None:
    lines = check(tmp_path, "raters:\n  resolve: moderater\n  moderator: ''\n")
    assert [line.split(" [")[0] + " [" + line.split(" [")[1].split("]")[0] + "]"
            for line in lines] == ["policy.yaml:6:12 [schema-enum]",
                                   "policy.yaml:7:14 [schema-min-length]"]
    assert "'moderater' is not one of: mean, median, highest, lowest, moderator" in lines[0]


def test_a_moderator_another_rule_ignores_is_a_warning(tmp_path: Path) -> None:
    assert check(tmp_path, "raters: {resolve: highest, moderator: Lee}\n") == [
        "policy.yaml:5:39 [unused-moderator] moderator 'Lee' is not used: double-scored work "
        "is resolved by the highest"]
    assert check(tmp_path, "raters: {resolve: moderator, moderator: Lee}\n") == []
    assert check(tmp_path, "raters: {resolve: median}\n") == []


def test_grade_stops_on_a_moderator_rule_without_moderator(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "scores.csv", piece(TWO), HEADER)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("kind: policy\nschema_version: 1\nid: p\nframework: test-school\n"
                           "raters: {resolve: moderator}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["grade", str(file), "--framework", str(FRAMEWORK_FILE),
                                      "--policy", str(policy_file), "--out",
                                      str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"{policy_file}:5:19: error [policy-raters]" in result.output


def test_grades_json_names_the_rule_only_when_the_policy_sets_one(tmp_path: Path) -> None:
    assert "raters" not in policy().to_dict()
    assert "raters" not in policy({"resolve": "mean"}).to_dict()
    assert policy({"resolve": "moderator", "moderator": "Lee"}).to_dict()["raters"] == {
        "resolve": "moderator", "moderator": "Lee",
        "text": "the moderator's rating (Lee), else the mean"}
    result = graded(tmp_path, piece(TWO), {"resolve": "highest"})
    out = tmp_path / "json"
    write_outputs(result, out, json_too=True)
    document = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    assert document["policy"]["raters"]["resolve"] == "highest"
    [target] = document["students"][0]["targets"]
    assert target["evidence_count"] == 1
    assert [(e["score"], e["used"], e["reason"]) for e in target["evidence"]] == [
        (2.68, True, ""), (2.68, False, "another-rater")]


def test_one_rater_for_everything_leaves_the_rater_column_unread(tmp_path: Path) -> None:
    """A teacher column naming one teacher (an export of one class) holds no double-scored
    work: it grades as without it."""
    rows = [*piece([("Ms. Lee", "3"), ("Ms. Lee", "2")]), *piece([("Ms. Lee", "1")], date="")]
    result = graded(tmp_path, rows, method="average")
    assert set(result.evidence["rater"]) == {"Ms. Lee"}
    assert target_row(result)["evidence_count"] == 3
    assert not (result.evidence["reason"] == "another-rater").any()


def test_a_moderator_no_file_names_is_a_located_warning(tmp_path: Path) -> None:
    """A misspelt moderator would quietly turn every piece into a mean: the run says so, at
    the policy's line, with the raters the files name."""
    file = write_csv(tmp_path / "scores.csv", piece([("Ms. Lee", "3"), ("Kim", "2")]), HEADER)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("kind: policy\nschema_version: 1\nid: p\nframework: test-school\n"
                           "raters:\n  resolve: moderator\n  moderator: Ms Lee\n",
                           encoding="utf-8")
    command = ["grade", str(file), "--framework", str(FRAMEWORK_FILE), "--policy",
               str(policy_file), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert (f"{policy_file}:7:14: warning [moderator-not-found] moderator 'Ms Lee' rated none "
            "of the evidence: the work scored by several raters was resolved by the mean"
            ) in result.output
    assert "did you mean 'Ms. Lee'?" in result.output
    assert "2.50" in (tmp_path / "out" / "target_grades.csv").read_text()
    policy_file.write_text(policy_file.read_text().replace("Ms Lee", "ms. LEE"))
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0 and "moderator-not-found" not in result.output
    assert "3.00" in (tmp_path / "out" / "target_grades.csv").read_text()
