"""The data backpack: Open Badges 3.0 / CLR 2.0 export, signing, and import back to evidence."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mastery_cli.cli import app
from mastery_cli.interop.ob3_sign import (
    SignatureProblem,
    new_private_key_pem,
    sign_credential,
    verify_credential,
)

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
OFFICIAL = REPO.parent.parent / "shared" / "realdata" / "openbadges" / \
    "1edtech-ob-v3p0-achievementcredential.schema.json"
if not OFFICIAL.is_file():  # a worktree two levels down, or the main checkout one level down
    OFFICIAL = REPO.parent / "shared" / "realdata" / "openbadges" / OFFICIAL.name
STUDENTS = ["0041001", "0041021", "0041066"]
runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def grades(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("grades")
    _run("grade", *map(str, sorted((EXAMPLES / "gradebook").glob("*.csv"))), "--framework",
         str(EXAMPLES / "framework"), "--policy", str(EXAMPLES / "policy.yaml"), "--out",
         str(out), "--format", "json")
    return out


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "school.pem"
    path.write_bytes(new_private_key_pem())
    return path


def _export(grades: Path, out: Path, *extra: str) -> Path:
    _run("export", "ob3", "--grades", str(grades), "--framework", str(EXAMPLES / "framework"),
         "--policy", str(EXAMPLES / "policy.yaml"), "--learners", str(EXAMPLES / "learners"),
         *[f"--student={s}" for s in STUDENTS], "--out", str(out), *extra)
    return out


@pytest.fixture(scope="module")
def backpacks(grades: Path, key: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _export(grades, tmp_path_factory.mktemp("ob3"), "--key", str(key))


def _credentials(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*/*.json"))]


def test_one_credential_per_mastered_target_and_competency(grades: Path,
                                                            backpacks: Path) -> None:
    document = json.loads((grades / "grades.json").read_text())
    for student in document["students"]:
        if student["id"] not in STUDENTS:
            assert not (backpacks / student["id"]).exists()
            continue
        expected = {t["target"] for t in student["targets"] if t["mastered"] is True} | {
            c["competency"] for c in student["competencies"] if c["mastered"] is True}
        written = {p.stem for p in (backpacks / student["id"]).glob("*.json")}
        assert written == expected and expected
        for target in student["targets"]:
            if target["mastered"] is not True:
                continue
            credential = json.loads((backpacks / student["id"] / f"{target['target']}.json")
                                    .read_text())
            subject = credential["credentialSubject"]
            assert credential["validFrom"] == f"{target['last_evidence_date']}T00:00:00Z"
            levels = {lv["id"]: lv for lv in
                      subject["achievement"]["resultDescription"][0]["rubricCriterionLevel"]}
            achieved = levels[subject["result"][0]["achievedLevel"]]
            assert float(achieved["level"]) == target["level"]
            assert achieved["name"] == target["label"]


@pytest.mark.skipif(not OFFICIAL.is_file(), reason="../shared/realdata is absent")
def test_every_credential_passes_the_official_schema(backpacks: Path) -> None:
    from jsonschema import Draft201909Validator

    validator = Draft201909Validator(json.loads(OFFICIAL.read_text()),
                                     format_checker=Draft201909Validator.FORMAT_CHECKER)
    credentials = _credentials(backpacks)
    for clr in backpacks.glob("*.clr.json"):
        credentials += json.loads(clr.read_text())["credentialSubject"]["verifiableCredential"]
    assert len(credentials) > 40
    for credential in credentials:
        assert list(validator.iter_errors(credential)) == [], credential["name"]


def test_alignment_is_the_case_item_export_case_writes(backpacks: Path, tmp_path: Path) -> None:
    _run("export", "case", str(EXAMPLES / "framework"), "--out", str(tmp_path / "case.json"))
    items = {i["extensions"]["mastery"]["id"]: i
             for i in json.loads((tmp_path / "case.json").read_text())["CFItems"]
             if "id" in i["extensions"]["mastery"]}
    checked = 0
    for credential in _credentials(backpacks):
        achievement = credential["credentialSubject"]["achievement"]
        (alignment,) = achievement["alignment"]
        item = items[achievement["humanCode"]]
        assert (alignment["targetType"], alignment["targetCode"], alignment["targetUrl"]) == (
            "CFItem", item["identifier"], item["uri"])
        checked += 1
    assert checked > 40


def test_issuer_evidence_and_clr(backpacks: Path) -> None:
    hugo = json.loads((backpacks / "0041021" / "SCI.INQ.2.json").read_text())
    assert hugo["issuer"] == {"id": "https://riverside.example.org", "type": ["Profile"],
                              "name": "Riverside Community High School",
                              "url": "https://riverside.example.org",
                              "email": "office@riverside.example.org"}
    (evidence,) = hugo["evidence"]
    assert evidence["id"] == "https://portfolio.riverside.example/0041021/creek-survey"
    assert "internship" in evidence["narrative"]
    clr = json.loads((backpacks / "0041021.clr.json").read_text())
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    bundled = {c["id"] for c in clr["credentialSubject"]["verifiableCredential"]}
    assert bundled == {c["id"] for c in _credentials(backpacks)
                       if c["credentialSubject"]["identifier"][0]["identityHash"] == "0041021"}


def test_exporting_twice_gives_the_same_bytes(grades: Path, key: Path, backpacks: Path,
                                              tmp_path: Path) -> None:
    again = _export(grades, tmp_path / "again", "--key", str(key))
    first = {p.relative_to(backpacks): p.read_bytes() for p in backpacks.rglob("*.*")}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*.*")}
    assert first == second
    issued = _export(grades, tmp_path / "issued", "--issued", "2027-02-01")
    for path in issued.rglob("*.json"):
        credential = json.loads(path.read_text())
        assert credential["validFrom"] == "2027-02-01T00:00:00Z"
        assert "not signed" in credential["description"]


def test_signature_round_trip_and_tampering(backpacks: Path, key: Path, tmp_path: Path) -> None:
    token = (backpacks / "0041066" / "MATH.ALG.3.jwt").read_text().strip()
    plain = json.loads((backpacks / "0041066" / "MATH.ALG.3.json").read_text())
    assert verify_credential(token) == plain
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["result"][0]["achievedLevel"] = "urn:uuid:forged"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(SignatureProblem):
        verify_credential(f"{header}.{forged}.{signature}")
    # A key other than the one in the header must not verify it either.
    from cryptography.hazmat.primitives import serialization

    other = serialization.load_pem_private_key(new_private_key_pem(), None)
    with pytest.raises(SignatureProblem):
        verify_credential(token, other.public_key())  # type: ignore[union-attr]
    resigned = sign_credential(plain, serialization.load_pem_private_key(key.read_bytes(), None))
    assert resigned == token  # Ed25519 is deterministic: same key, same bytes
    (tmp_path / "forged.jwt").write_text(f"{header}.{forged}.{signature}\n")
    result = runner.invoke(app, ["import", "ob3", str(tmp_path / "forged.jwt"), "--framework",
                                 str(EXAMPLES / "framework"), "--out", str(tmp_path / "in")])
    assert result.exit_code == 1
    assert "ob3-bad-signature" in result.output
    assert not (tmp_path / "in" / "backpack_evidence.csv").exists()


def test_import_gives_back_the_levels_as_evidence(grades: Path, backpacks: Path,
                                                  tmp_path: Path) -> None:
    _run("import", "ob3", str(backpacks / "0041066.clr.jwt"), "--framework",
         str(EXAMPLES / "framework"), "--out", str(tmp_path), "--approved-by", "Ms. Ortiz",
         "--approved-on", "2027-01-10")
    import csv

    rows = list(csv.DictReader((tmp_path / "backpack_evidence.csv").open()))
    document = json.loads((grades / "grades.json").read_text())
    yusuf = next(s for s in document["students"] if s["id"] == "0041066")
    mastered = {t["target"]: t for t in yusuf["targets"] if t["mastered"] is True}
    assert {r["target"]: float(r["score"]) for r in rows} == {
        t: r["level"] for t, r in mastered.items()}
    assert {(r["source"], r["approved_by"], r["approved_on"]) for r in rows} == {
        ("prior school", "Ms. Ortiz", "2027-01-10")}
    assert {r["date"] for r in rows} == {t["last_evidence_date"] for t in mastered.values()}
    # The rows grade like the transfer CSV.
    _run("grade", str(tmp_path / "backpack_evidence.csv"), "--framework",
         str(EXAMPLES / "framework"), "--out", str(tmp_path / "graded"))
    assert (tmp_path / "graded" / "target_grades.csv").is_file()


def test_import_maps_by_alignment_code_when_ids_differ(backpacks: Path, tmp_path: Path) -> None:
    credential = json.loads((backpacks / "0041066" / "MATH.ALG.3.json").read_text())
    credential["credentialSubject"]["achievement"]["humanCode"] = "THEIR-ALG-3"
    credential["credentialSubject"]["achievement"]["alignment"][0]["targetUrl"] = "https://x"
    (tmp_path / "one.json").write_text(json.dumps(credential))
    _run("import", "ob3", str(tmp_path / "one.json"), "--framework",
         str(EXAMPLES / "framework"), "--out", str(tmp_path / "out"))
    text = (tmp_path / "out" / "backpack_evidence.csv").read_text()
    assert ",MATH.ALG.3,Backpack: " in text
    assert text.splitlines()[1].endswith(",prior school,,,")  # waits for approval


def test_a_bad_key_is_a_clear_error(grades: Path, tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text("not a key")
    result = runner.invoke(app, ["export", "ob3", "--grades", str(grades), "--framework",
                                 str(EXAMPLES / "framework"), "--key", str(tmp_path / "key.pem"),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "key-not-ed25519" in result.output
    assert not (tmp_path / "out").exists()


def test_keygen_never_overwrites(tmp_path: Path) -> None:
    _run("export", "ob3-key", "--out", str(tmp_path / "k.pem"))
    assert (tmp_path / "k.pem").stat().st_mode & 0o077 == 0
    result = runner.invoke(app, ["export", "ob3-key", "--out", str(tmp_path / "k.pem")])
    assert result.exit_code == 2


def test_help_has_examples() -> None:
    for command in (["export", "ob3"], ["import", "ob3"], ["export", "ob3-key"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Example" in result.output, command
