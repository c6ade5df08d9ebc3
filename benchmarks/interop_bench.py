"""Benchmark, section "interop": CASE/Moodle import and CASE/Moodle/Canvas export timings.

Run: .venv/bin/python benchmarks/interop_bench.py [--repeat N]
Uses ../shared/realdata when present (the 1.8 MB Common Core package, goal < 3 s per import),
else the small hand-made fixtures in tests/data/interop. Prints JSON: {"interop": {...}}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mastery_cli.interop.canvas_outcomes import export_canvas_outcomes  # noqa: E402
from mastery_cli.interop.case_export import case_package_text, export_case_package  # noqa: E402
from mastery_cli.interop.case_import import ImportOptions, read_case_package  # noqa: E402
from mastery_cli.interop.files import write_framework_files  # noqa: E402
from mastery_cli.interop.moodle import export_moodle_csv, read_moodle_csv  # noqa: E402
from mastery_cli.validation import load_framework  # noqa: E402

REAL = ROOT.parent / "shared" / "realdata"
FIXTURES = ROOT / "tests" / "data" / "interop"


def timed(action: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(median, best) wall-clock seconds of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 4), round(min(times), 4)


def run(repeat: int) -> dict[str, Any]:
    case_file = REAL / "case" / "opensalt_legacy2016_CCSS-Math_math_cfs_sample.json"
    moodle_file = REAL / "moodle" / "moodle-core_tool_lpimportcsv_tests_fixtures_example.csv"
    if not case_file.is_file():
        case_file = FIXTURES / "small-case.json"
    if not moodle_file.is_file():
        moodle_file = FIXTURES / "small-moodle.csv"
    results: dict[str, Any] = {"case_file": case_file.name, "moodle_file": moodle_file.name}
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "case"

        def import_case() -> None:
            result = read_case_package(case_file, ImportOptions(levels=None))
            write_framework_files(result.files, out, source=case_file.name)

        results["case_import_s"] = timed(import_case, repeat)
        framework, _ = load_framework([out])
        results["framework_load_s"] = timed(lambda: load_framework([out]), repeat)
        results["case_export_s"] = timed(
            lambda: case_package_text(export_case_package(framework)[0]), repeat)
        results["canvas_export_s"] = timed(lambda: export_canvas_outcomes(framework), repeat)
        results["moodle_export_s"] = timed(lambda: export_moodle_csv(framework), repeat)
        results["moodle_import_s"] = timed(lambda: read_moodle_csv(moodle_file), repeat)
    results["goal"] = "case_import_s < 3.0 on the 1.8 MB CCSS package"
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps({"interop": run(args.repeat)}, indent=2))


if __name__ == "__main__":
    main()
