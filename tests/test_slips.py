"""Ordinary slips are named, not silently graded (issue 14, part 6).

Ids that lost their leading zeros in a spreadsheet, evidence types the policy names but no row
has, a comments file with the gradebook's headers or unknown students, and ``--param
undated=first``: each is a located warning (or simply works), never a silent change of grades.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.reports.comments import read_comments

REPO = Path(__file__).resolve().parents[1]
INPUTS = REPO / "tests" / "golden" / "grade" / "inputs"
FRAMEWORK = INPUTS / "framework.yaml"
REPORT_DATA = REPO / "tests" / "data" / "report"


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def json_diagnostics(output: str) -> list[dict[str, Any]]:
    document = json.loads(output)
    diagnostics: list[dict[str, Any]] = document["diagnostics"]
    return diagnostics


# ------------------------------------------------------------------ --param undated=first

UNDATED_SCORES = (
    "student_id,target,date,score\n"
    "0012,T1,2026-09-01,1\n"
    "0012,T1,,4\n"
    "0012,T1,2026-09-20,2\n"
)


def _latest_score(out: Path) -> str:
    with (out / "target_grades.csv").open(encoding="utf-8") as stream:
        [row] = [r for r in csv.DictReader(stream) if r["target"] == "T1"]
    return row["score"]


@pytest.mark.parametrize(("option", "latest"), [
    ([], "4.00"),  # undated evidence goes last by default: it is the latest
    (["--param", "undated=last"], "4.00"),
    (["--param", "undated=first"], "2.00"),
    (["--param", "undated=FIRST"], "2.00"),
])
def test_param_undated_orders_undated_evidence(
    tmp_path: Path, option: list[str], latest: str
) -> None:
    scores = write(tmp_path / "scores.csv", UNDATED_SCORES)
    result = invoke("grade", scores, "--framework", FRAMEWORK, "--method", "latest",
                    *option, "--out", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    assert _latest_score(tmp_path / "out") == latest


def test_param_undated_overrides_the_policy_file(tmp_path: Path) -> None:
    policy = write(tmp_path / "policy.yaml", "kind: policy\nschema_version: 1\nid: p\n"
                   "method: latest\nundated: last\n")
    scores = write(tmp_path / "scores.csv", UNDATED_SCORES)
    result = invoke("grade", scores, "--framework", FRAMEWORK, "--policy", policy,
                    "--param", "undated=first", "--out", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    assert _latest_score(tmp_path / "out") == "2.00"


def test_param_undated_with_a_bad_value_exits_1_naming_the_choices(tmp_path: Path) -> None:
    scores = write(tmp_path / "scores.csv", UNDATED_SCORES)
    result = invoke("grade", scores, "--framework", FRAMEWORK, "--param", "undated=frist",
                    "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "[policy-parameter]" in result.output
    assert "undated must be 'last' or 'first'" in result.output
    assert "did you mean 'first'?" in result.output
    assert not (tmp_path / "out").exists()


def test_explain_takes_param_undated_too(tmp_path: Path) -> None:
    scores = write(tmp_path / "scores.csv", UNDATED_SCORES)
    result = invoke("explain", "0012", "T1", scores, "--framework", FRAMEWORK,
                    "--method", "latest", "--param", "undated=first")
    assert result.exit_code == 0, result.output
    used = result.output.split("Method:")[0]
    # the undated 4 comes first, the last dated score (2) is the latest
    assert used.index("score 4.00") < used.index("score 2.00")


# ------------------------------------------------------------------ comments CSV

def _report_grades() -> tuple[list[str], list[str]]:
    from mastery_cli.validation import load_framework

    framework, _ = load_framework(REPORT_DATA / "framework")
    grades = json.loads((REPORT_DATA / "grades" / "grades.json").read_text(encoding="utf-8"))
    known = [*framework.targets, *framework.competencies, *framework.courses]
    return known, [s["id"] for s in grades["students"]]


def test_comments_accept_the_gradebook_s_header_aliases(tmp_path: Path) -> None:
    known, students = _report_grades()
    path = write(tmp_path / "comments.csv",
                 "Student ID,Standard,Notes\n"
                 "0012345,MATH.ALG.3,Check your solutions.\n"
                 "S002,,A good term.\n")
    comments, problems = read_comments(path, known, students)
    assert problems == []
    assert comments.for_item("0012345", "MATH.ALG.3") == ["Check your solutions."]
    assert comments.for_student("S002") == ["A good term."]


def test_comments_about_column_wins_over_target_aliases(tmp_path: Path) -> None:
    known, students = _report_grades()
    path = write(tmp_path / "comments.csv",
                 "SIS ID,Course,About,Feedback\n"
                 "S002,ALG1,MATH.ALG.3,On the target.\n")
    comments, problems = read_comments(path, known, students)
    assert problems == []
    assert comments.for_item("S002", "MATH.ALG.3") == ["On the target."]


def test_comments_without_an_id_column_name_the_columns(tmp_path: Path) -> None:
    from mastery_cli.diagnostics import MasteryError

    path = write(tmp_path / "comments.csv", "who,comment\nS002,Hello\n")
    with pytest.raises(MasteryError) as caught:
        read_comments(path, [], [])
    [problem] = caught.value.diagnostics
    assert (problem.code, problem.line) == ("missing-column", 1)
    assert "student_id" in problem.message


def test_comments_for_unknown_students_are_warnings_at_their_row(tmp_path: Path) -> None:
    known, students = _report_grades()
    path = write(tmp_path / "comments.csv",
                 "student_id,about,comment\n"
                 "S002,,Fine.\n"
                 '12345,,"Lost its zeros\nin Excel."\n'
                 "S003,,No such student.\n"
                 "NOBODY,,Nobody.\n")
    comments, problems = read_comments(path, known, students)
    assert comments.for_student("S002") == ["Fine."]
    assert [(p.code, p.severity.value, p.path, p.line, p.column) for p in problems] == [
        ("unknown-student", "warning", str(path), 3, 1),
        ("unknown-student", "warning", str(path), 5, 1),  # the record before spans 2 lines
        ("unknown-student", "warning", str(path), 6, 1),
    ]
    assert "'12345'" in problems[0].message
    assert problems[0].hint is not None and "did you mean '0012345'?" in problems[0].hint
    assert "format the id column as text" in problems[0].hint
    assert problems[1].hint == "did you mean 'S002'?"
    assert problems[2].hint == "use the student ids of the gradebook"
    assert "'12345'" not in json.dumps([comments.general, list(comments.about)])


def test_report_prints_unknown_comment_students_and_still_exits_0(tmp_path: Path) -> None:
    comments = write(tmp_path / "comments.csv",
                     "Student ID,Comment\n0012345,Well done.\n99999,Who is this?\n")
    result = invoke("report", "report-card", "--grades", REPORT_DATA / "grades",
                    "--framework", REPORT_DATA / "framework", "--date", "2025-12-19", "-q",
                    "--out", tmp_path / "out", "--comments", comments)
    assert result.exit_code == 0, result.output
    assert f"{comments}:3:1: warning [unknown-student]" in result.output
    card = (tmp_path / "out" / "report-cards" / "0012345.html").read_text(encoding="utf-8")
    assert "Well done." in card


# ------------------------------------------------------------------ ids that lost their zeros

def grade_files(tmp_path: Path, *files: Path, extra: tuple[str | Path, ...] = ()) -> Any:
    return invoke("grade", *files, "--framework", FRAMEWORK, "--out", tmp_path / "out", "-q",
                  *extra)


def reader_diagnostics(*files: Path) -> list[Any]:
    from mastery_cli.grading.ingest import IngestConfig, read_evidence
    from mastery_cli.validation import load_framework

    framework, _ = load_framework(FRAMEWORK)
    return read_evidence(list(files), framework, IngestConfig()).diagnostics


ZEROS = (
    "student_id,student_name,target,date,score\n"
    '0070107,"Ruiz, Ana",T1,2026-09-01,2\n'
    '0012,"García, Ana",T1,2026-09-01,3\n'
    '0070107,"Ruiz, Ana",T2,2026-09-02,3\n'
    '70107,"Ruiz,  ana",T1,2026-09-10,3\n'
    '70107,"Ruiz, Ana",T2,2026-09-10,3\n'
)


def test_ids_that_differ_only_by_leading_zeros_are_a_warning(tmp_path: Path) -> None:
    scores = write(tmp_path / "scores.csv", ZEROS)
    [problem] = [d for d in reader_diagnostics(scores) if d.code == "student-id-leading-zeros"]
    assert (problem.severity.value, problem.path, problem.line) == ("warning", str(scores), 5)
    assert "'70107'" in problem.message and "'0070107'" in problem.message
    assert "Ruiz, Ana" in problem.message or "Ruiz,  ana" in problem.message
    assert f"{scores} line 2" in problem.message  # where the other id is
    assert problem.hint is not None and "format the student id column as text" in problem.hint

    result = grade_files(tmp_path, scores)
    assert result.exit_code == 0, result.output
    assert f"{scores}:5: warning [student-id-leading-zeros]" in result.output
    strict = grade_files(tmp_path, scores, extra=("--strict",))
    assert strict.exit_code == 1


def test_leading_zeros_are_found_across_files(tmp_path: Path) -> None:
    first = write(tmp_path / "a.csv", "student_id,student_name,target,score\n"
                  "0070107,Ana Ruiz,T1,2\n")
    second = write(tmp_path / "b.csv", "Student ID,Name,Standard,Score\n"
                   "0012,Ben Li,T1,3\n070107,Ana Ruiz,T1,3\n")
    [problem] = [d for d in reader_diagnostics(first, second)
                 if d.code == "student-id-leading-zeros"]
    # the id with fewer zeros is the one the spreadsheet cut
    assert (problem.path, problem.line) == (str(second), 3)
    assert "'070107'" in problem.message and "'0070107'" in problem.message


@pytest.mark.parametrize("rows", [
    # different students whose ids happen to share digits
    "0070107,Ana Ruiz,T1,2\n70107,Ben Li,T1,3\n",
    # no names: nothing says they are the same student
    "0070107,,T1,2\n70107,,T1,3\n",
    # ids that differ by more than zeros
    "0070107,Ana Ruiz,T1,2\n0070170,Ana Ruiz,T1,3\n",
    # zeros inside or at the end are part of the id
    "7010,Ana Ruiz,T1,2\n70100,Ana Ruiz,T1,3\n",
])
def test_no_warning_without_a_leading_zero_slip(tmp_path: Path, rows: str) -> None:
    scores = write(tmp_path / "scores.csv", "student_id,student_name,target,score\n" + rows)
    assert [d for d in reader_diagnostics(scores) if d.code == "student-id-leading-zeros"] == []


def test_many_leading_zero_slips_are_listed_up_to_the_limit(tmp_path: Path) -> None:
    rows = "".join(f"00{n},Student {n},T1,2\n{n},Student {n},T1,3\n" for n in range(100, 130))
    scores = write(tmp_path / "scores.csv", "student_id,student_name,target,score\n" + rows)
    found = [d for d in reader_diagnostics(scores) if d.code == "student-id-leading-zeros"]
    assert len(found) == 21
    assert found[-1].message == "and 10 more ids that differ only by leading zeros (not listed)"


# ------------------------------------------------------------------ types no row has

TYPED = (
    "student_id,student_name,target,date,type,score\n"
    "0012,Ana,T1,2026-09-01,practice,1\n"
    "0012,Ana,T1,2026-09-02,Summative,3\n"
    "0345,Ben,T1,2026-09-03,quiz,3\n"
)


def typed_policy(tmp_path: Path, evidence: str) -> Path:
    return write(tmp_path / "policy.yaml", "kind: policy\nschema_version: 1\nid: p\n"
                 f"method: average\nevidence:\n{evidence}")


def test_a_policy_type_no_row_has_is_a_warning_at_its_place(tmp_path: Path) -> None:
    scores = write(tmp_path / "scores.csv", TYPED)
    policy = typed_policy(tmp_path, "  exclude_types: [practise]\n"
                                    "  type_weights:\n    summative: 2\n    Quizz: 0.5\n")
    result = grade_files(tmp_path, scores, extra=("--policy", policy))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (f"{policy}:6:19: warning [unused-evidence-type] the policy excludes evidence type "
            "'practise', but no row of the files has that type") in lines
    assert ("    hint: did you mean 'practice'? (types in the files: practice, quiz, "
            "summative)") in lines
    assert (f"{policy}:9:5: warning [unused-evidence-type] the policy weighs evidence type "
            "'Quizz', but no row of the files has that type") in lines
    assert "summative'" not in result.output  # 'Summative' rows match 'summative'
    assert grade_files(tmp_path, scores, extra=("--policy", policy, "--strict")).exit_code == 1


def test_count_types_no_row_has_without_a_near_spelling_lists_the_types(tmp_path: Path) -> None:
    scores = write(tmp_path / "scores.csv", TYPED)
    policy = typed_policy(tmp_path, "  count_types: [summative, homework]\n")
    result = grade_files(tmp_path, scores, extra=("--policy", policy))
    assert result.exit_code == 0, result.output
    assert (f"{policy}:6:28: warning [unused-evidence-type] the policy counts only evidence "
            "type 'homework'") in result.output
    assert "    hint: types in the files: practice, quiz, summative\n" in result.output


def test_a_known_type_this_export_lacks_is_a_note_without_did_you_mean(tmp_path: Path) -> None:
    # One policy serves many exports: a quiz-only export under a policy excluding 'formative'
    # is normal, and 'formative' is no misspelling of 'summative'.
    scores = write(tmp_path / "scores.csv", TYPED)
    policy = typed_policy(tmp_path, "  exclude_types: [formative]\n")
    result = grade_files(tmp_path, scores, extra=("--policy", policy, "--strict"))
    assert result.exit_code == 0, result.output
    assert (f"{policy}:6:19: info [unused-evidence-type] the policy excludes evidence type "
            "'formative', but no row of the files has that type") in result.output
    assert "did you mean" not in result.output


def test_types_every_row_has_somewhere_give_no_warning(tmp_path: Path) -> None:
    from mastery_cli.grading.pipeline import grade
    from mastery_cli.grading.policy_check import load_policy
    from mastery_cli.validation import load_framework

    scores = write(tmp_path / "scores.csv", TYPED)
    policy_path = typed_policy(tmp_path, "  exclude_types: [Practice]\n"
                                         "  type_weights: {quiz: 0.5}\n")
    framework, _ = load_framework(FRAMEWORK)
    policy, _ = load_policy(policy_path, framework)
    assert [d.code for d in grade([scores], framework, policy).diagnostics] == []
    # 'quiz' is only Ben's: explaining Ana's result still knows the files have it
    only_ana = grade([scores], framework, policy, only_student="0012")
    assert [d.code for d in only_ana.diagnostics] == []


def test_the_example_school_has_no_slips(tmp_path: Path) -> None:
    gradebook = sorted((REPO / "examples" / "gradebook").glob("*.csv"))
    result = invoke("grade", *gradebook, "--framework", REPO / "examples" / "framework",
                    "--policy", REPO / "examples" / "policy.yaml", "--out", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    for code in ("student-id-leading-zeros", "unused-evidence-type", "unknown-evidence-type"):
        assert code not in result.output


# ------------------------------------------------------------------ mastery validate

def test_validate_names_policy_types_that_nearly_spell_another(tmp_path: Path) -> None:
    policy = typed_policy(tmp_path, "  count_types: [summative, lab]\n"
                                    "  exclude_types: [practise, formative]\n"
                                    "  type_weights: {labs: 2, summative: 3}\n")
    result = invoke("validate", "--format", "json", policy)
    assert result.exit_code == 0, result.output
    found = [(d["code"], d["severity"], d["path"], d["line"], d["column"], d["pointer"],
              d["hint"]) for d in json_diagnostics(result.stdout)]
    assert found == [
        ("unknown-evidence-type", "warning", str(policy), 7, 19,
         "/evidence/exclude_types/0", "did you mean 'practice'?"),
        ("unknown-evidence-type", "warning", str(policy), 8, 18,
         "/evidence/type_weights/labs", "did you mean 'lab'?"),
    ]
    assert invoke("validate", "--strict", policy).exit_code == 1


def test_explain_prints_the_warnings_that_bear_on_the_result(tmp_path: Path) -> None:
    # The explanation lists the student's own rejected rows; the warnings about the files and
    # the policy (ids with lost zeros, a misspelt type) come before it, other students' rows not.
    scores = write(tmp_path / "scores.csv", ZEROS + '0012,"García, Ana",T1,2026-09-11,9\n')
    policy = typed_policy(tmp_path, "  exclude_types: [practise]\n")
    result = invoke("explain", "0070107", "T1", scores, "--framework", FRAMEWORK,
                    "--policy", policy)
    assert result.exit_code == 0, result.output
    assert f"{scores}:5: warning [student-id-leading-zeros]" in result.output
    assert f"{policy}:6:19: warning [unused-evidence-type]" in result.output
    assert "score-off-scale" not in result.output  # García's row, not this student's
    assert result.output.index("warning [") < result.output.index("Student 0070107")
