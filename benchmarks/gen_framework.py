"""Write a large, valid framework for benchmarks: N targets spread over F files (deterministic).

    python benchmarks/gen_framework.py OUT_DIR [--targets 20000] [--files 50] [--bilingual]

The first file holds the metadata, the scale and the progressions; every file holds competencies
of 10 targets each, each target with a title, statement, "I can" statement, indicators for all
four levels, a prerequisite inside its competency and an alignment — the shape of a real
district framework, so that every check of `mastery validate` has work to do. ``--bilingual``
gives every text in English and Spanish (twice the YAML). Output is identical on every run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

LEVELS = ((1, "Beginning", "Inicial"), (2, "Developing", "En desarrollo"),
          (3, "Proficient", "Competente"), (4, "Advanced", "Avanzado"))
TARGETS_PER_COMPETENCY = 10

HEADER = """kind: framework
schema_version: 1
id: bench-district
"""



def _text(indent: int, en: str, es: str, bilingual: bool) -> str:
    """A YAML value: plain English text, or an en/es map on the following lines."""
    if not bilingual:
        return f" {en}"
    pad = " " * indent
    return f"\n{pad}en: {en}\n{pad}es: {es}"


def _metadata(bilingual: bool) -> str:
    text = f"""title:{_text(2, "Benchmark District Competency Framework",
                        "Marco de competencias del distrito de prueba", bilingual)}
languages: [{"en, es" if bilingual else "en"}]
default_scale: academic
scales:
  - id: academic
    title:{_text(6, "Academic scale", "Escala académica", bilingual)}
    levels:
"""
    for value, en, es in LEVELS:
        text += f"      - value: {value}\n        label:{_text(10, en, es, bilingual)}\n"
        text += "        mastery: true\n" if value == 3 else ""
    return text


def _target(target_id: str, number: int, previous: str | None, bilingual: bool) -> str:
    lines = [
        f"      - id: {target_id}",
        f"        title:{_text(10, f'Target {number}', f'Objetivo {number}', bilingual)}",
        "        statement:" + _text(
            10, f"Students explain and apply idea number {number} in new situations.",
            f"Los estudiantes explican y aplican la idea número {number}.", bilingual),
        "        i_can:" + _text(10, f"I can explain and apply idea {number}.",
                                 f"Puedo explicar y aplicar la idea {number}.", bilingual),
        "        indicators:",
    ]
    for value, en, es in LEVELS:
        lines.append(f'          "{value}":' + _text(
            12, f"{en} work on idea {number}, described for families.",
            f"Trabajo {es.lower()} sobre la idea {number}.", bilingual))
    if previous is not None:
        lines.append(f"        prerequisites: [{previous}]")
    lines += ["        alignments:",
              f"          - code: STD.{number}",
              "            relation: exactMatchOf"]
    return "\n".join(lines) + "\n"


def generate(
    out: Path, targets: int = 20_000, files: int = 50, *, bilingual: bool = False
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    competencies = max(1, targets // TARGETS_PER_COMPETENCY)
    per_file = -(-competencies // files)
    written: list[Path] = []
    number = 0
    for file_index in range(files):
        parts = [HEADER]
        if file_index == 0:
            parts.append(_metadata(bilingual))
        first = file_index * per_file
        chosen = range(first, min(first + per_file, competencies))
        if chosen:
            parts.append("competencies:\n")
        for c in chosen:
            title = _text(6, f"Competency {c}", f"Competencia {c}", bilingual)
            parts.append(f"  - id: C{c:04d}\n    title:{title}\n    kind: academic\n"
                         "    targets:\n")
            previous = None
            for t in range(TARGETS_PER_COMPETENCY):
                number += 1
                target_id = f"C{c:04d}.T{t:02d}"
                parts.append(_target(target_id, number, previous, bilingual))
                previous = target_id
        if file_index == 0:
            parts.append("progressions:\n  - id: first-steps\n    targets: "
                         "[C0000.T00, C0000.T01, C0000.T02]\n")
        path = out / f"part-{file_index:03d}.yaml"
        path.write_text("".join(parts), encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--targets", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--bilingual", action="store_true", help="English and Spanish text")
    args = parser.parse_args()
    paths = generate(args.out, args.targets, args.files, bilingual=args.bilingual)
    print(f"wrote {len(paths)} files with {args.targets} targets to {args.out}")


if __name__ == "__main__":
    main()
