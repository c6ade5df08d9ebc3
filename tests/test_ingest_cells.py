"""The pieces under the gradebook reader: dialect sniffing and score-cell interpretation."""

from __future__ import annotations

import codecs
import math

import numpy as np
import pytest

from mastery_cli.framework.model import Level, Scale
from mastery_cli.grading.csvsniff import NotUtf8, detect_decimal, read_records, sniff
from mastery_cli.grading.formats import normalize_header
from mastery_cli.grading.scorecells import Outcome, ScaleReader, read_scores, reject_message

ACADEMIC = Scale(
    id="academic",
    levels=[
        Level(1, {"en": "Beginning", "es": "Inicial"}, short="B"),
        Level(2, {"en": "Developing", "es": "En desarrollo"}, short="D"),
        Level(3, {"en": "Proficient", "es": "Competente"}, short="P", mastery=True),
        Level(4, {"en": "Advanced", "es": "Avanzado"}, short="A"),
    ],
)
# A scale whose short labels collide with the excused/missing tokens.
MEETS = Scale(
    id="meets",
    levels=[
        Level(1, "Not yet", short="NY"),
        Level(2, "Meets", short="M"),
        Level(3, "Exceeds", short="EX"),
    ],
)


@pytest.mark.parametrize(
    ("data", "delimiter", "encoding"),
    [
        (b"a,b,c\n1,2,3\n", ",", "UTF-8"),
        (codecs.BOM_UTF8 + b"a;b;c\r\n1;2,5;3\r\n", ";", "UTF-8 with BOM"),
        (b"a\tb\tc\n1\t2\t3\n", "\t", "UTF-8"),
        ("a\tb\n\u00e9\t2\n".encode("utf-16"), "\t", "UTF-16"),
        ('name,score\n"Núñez, José",3\n'.encode("cp1252"), ",", "Windows-1252"),
    ],
)
def test_sniff_dialects(data, delimiter, encoding):
    decoded = sniff(data, "f.csv")
    assert decoded.dialect.delimiter == delimiter
    assert decoded.dialect.encoding == encoding
    assert decoded.data.decode("utf-8")  # always handed on as UTF-8
    assert not decoded.data.startswith(codecs.BOM_UTF8)


def test_semicolon_file_with_commas_in_names_is_semicolon():
    decoded = sniff(b"id;name;score\n1;Rivera, Ana;3\n2;Chen, Bo;2,5\n", "f.csv")
    assert decoded.dialect.delimiter == ";"


def test_late_non_utf8_byte_is_found_by_the_full_read():
    body = b"id,name\n" + b"1,Ana\n" * 20000 + "2,Jos\u00e9\n".encode("cp1252")
    decoded = sniff(body, "f.csv")  # the 64 KB sample is clean
    assert decoded.dialect.encoding == "UTF-8"
    legacy = sniff(body, "f.csv", legacy=True)
    assert legacy.dialect.encoding == "Windows-1252"
    assert legacy.diagnostics[0].line == 20002
    records = read_records(legacy, "f.csv")
    assert records.column(1)[-1].as_py() == "José"


@pytest.mark.parametrize("column", [0, 1, 2])
def test_a_late_non_utf8_byte_in_any_column_stops_the_dictionary_parse(column):
    """The dictionary parse leaves the UTF-8 check to the decoding of its dictionaries; every
    column is decoded, even one nothing else reads."""
    cells = ["2", "Ana", "note"]
    cells[column] = "Jos\u00e9"
    body = (b"id,name,notes\n" + b"1,Ana,ok\n" * 20000
            + ",".join(cells).encode("cp1252") + b"\n")
    decoded = sniff(body, "f.csv")
    assert decoded.dialect.encoding == "UTF-8"  # the sample is clean
    with pytest.raises(NotUtf8):
        read_records(decoded, "f.csv", dictionary=True)
    with pytest.raises(NotUtf8):
        read_records(decoded, "f.csv")


def test_record_lines_with_quoted_newlines_crlf_and_blank_lines():
    data = b'id,note\r\n1,"a\r\nb"\r\n\r\n2,c\r\n3,"x\r\ny\r\nz"\r\n4,d'
    records = read_records(sniff(data, "f.csv"), "f.csv")
    assert records.lines.tolist() == [2, 5, 6, 9]
    assert records.column(1).to_pylist() == ["a\r\nb", "c", "x\r\ny\r\nz", "d"]


def test_malformed_records_are_reported_with_their_line():
    data = b"a,b\n1,2\n3\n4,5,6\n7,8\n"
    records = read_records(sniff(data, "f.csv"), "f.csv")
    assert records.lines.tolist() == [2, 5]
    assert [line for line, _ in records.bad_lines] == [3, 4]


def test_everything_stays_text():
    records = read_records(sniff(b"id,score,date\n0012345,3.0,2025-09-01\n", "f.csv"), "f.csv")
    assert [records.column(i)[0].as_py() for i in range(3)] == ["0012345", "3.0", "2025-09-01"]


@pytest.mark.parametrize(
    ("values", "decimal"),
    [(["3", "2,5"], ","), (["3", "2.5"], "."), (["2,5", "2.5"], "."), (["3", "4"], ".")],
)
def test_detect_decimal(values, decimal):
    assert detect_decimal(values) == decimal


@pytest.mark.parametrize("header", ["Student ID", "student-id", " STUDENT_ID ", "\ufeffStudent Id"])
def test_header_spellings(header):
    assert normalize_header(header) == "student_id"


def cells(texts, scale=ACADEMIC, decimal=".", **options):
    readers = [ScaleReader.of(scale)]
    codes = np.arange(len(texts))
    return read_scores(
        texts, codes, np.zeros(len(texts), dtype=np.int64), readers, decimal=decimal, **options
    )


def test_score_cells():
    texts = [
        "3",
        "2.5",
        "Proficient",
        "competente",
        "p",
        "EX",
        "excused",
        "M",
        "missing",
        "",
        "N/A",
        "5",
        "0",
        "abc",
        "3,5",
    ]
    result = cells(texts)
    expected = [
        (3.0, Outcome.SCORED),
        (2.5, Outcome.SCORED),
        (3.0, Outcome.SCORED),
        (3.0, Outcome.SCORED),
        (3.0, Outcome.SCORED),
        (math.nan, Outcome.EXCUSED),
        (math.nan, Outcome.EXCUSED),
        (math.nan, Outcome.MISSING),
        (math.nan, Outcome.MISSING),
        (math.nan, Outcome.NO_SCORE),
        (math.nan, Outcome.NO_SCORE),
        (math.nan, Outcome.OFF_SCALE),
        (math.nan, Outcome.OFF_SCALE),
        (math.nan, Outcome.NON_NUMERIC),
        (math.nan, Outcome.NON_NUMERIC),
    ]
    for i, (score, outcome) in enumerate(expected):
        assert result.outcome[i] == outcome, texts[i]
        assert (math.isnan(result.score[i]) and math.isnan(score)) or result.score[i] == score


def test_decimal_comma():
    result = cells(["3,5", "2.5"], decimal=",")
    assert result.score[0] == 3.5 and result.outcome[1] == Outcome.SCORED


def test_scale_labels_win_over_excused_and_missing_tokens():
    result = cells(["M", "EX", "ny"], scale=MEETS)
    assert result.score.tolist() == [2.0, 3.0, 1.0]
    assert set(result.outcome.tolist()) == {Outcome.SCORED}


def test_missing_scored_as_a_number():
    result = cells(["M"], missing=1.0)
    assert (result.score[0], result.outcome[0]) == (1.0, Outcome.SCORED)


def test_canvas_points_rescale():
    texts = ["5", "2", "6", "3"]
    points = np.array([5.0, 4.0, 5.0, np.nan])
    result = cells(texts, points_possible=points)
    assert result.score[0] == 4.0  # 5 of 5 points on a 1-4 scale
    assert result.score[1] == 2.0  # points possible equal to the scale max: kept
    assert result.outcome[2] == Outcome.OFF_SCALE  # more than the points possible
    assert result.score[3] == 3.0  # unknown points possible: kept


def test_unknown_target_cells_only_need_blank_detection():
    readers = [ScaleReader.of(ACADEMIC)]
    result = read_scores(["", "3"], np.array([0, 1]), np.array([-1, -1]), readers, decimal=".")
    assert result.outcome.tolist() == [Outcome.NO_SCORE, Outcome.NON_NUMERIC]


def test_reject_messages_suggest_labels():
    reader = ScaleReader.of(ACADEMIC)
    message = reject_message(Outcome.NON_NUMERIC, "Profficient", reader)
    assert "did you mean 'Proficient'" in message
    assert "(1–4)" in reject_message(Outcome.OFF_SCALE, "7", reader)
    plain = reject_message(Outcome.NON_NUMERIC, "zzz", reader)
    assert "Beginning, Developing, Proficient, Advanced" in plain
