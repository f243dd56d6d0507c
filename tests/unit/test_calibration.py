"""The operating point of scripts/calibrate_out_of_domain.py: trust first within a coverage budget."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "calibrate_out_of_domain.py"
spec = importlib.util.spec_from_file_location("calibrate_out_of_domain", SCRIPT)
assert spec is not None and spec.loader is not None
calibration = importlib.util.module_from_spec(spec)
spec.loader.exec_module(calibration)


def point(coverage: float, wrong: float, unknown: float = 2.0, guard: float = 0.2) -> dict:
    return {"fallback_threshold": 0.25, "ambiguity_threshold": 0.05, "guard_threshold": guard,
            "guard_margin": 0.1, "max_unknown_share": unknown, "coverage": coverage, "wrong_answers": wrong}


def test_fewest_wrong_answers_within_the_coverage_budget() -> None:
    permissive, careful, too_costly = point(0.80, 0.15), point(0.78, 0.07), point(0.60, 0.01)
    assert calibration.operating_point([permissive, careful, too_costly]) == careful


def test_ties_go_to_the_stricter_vocabulary_check() -> None:
    lenient, strict = point(0.76, 0.07, unknown=0.5), point(0.76, 0.07, unknown=0.34)
    assert calibration.operating_point([lenient, strict]) == strict
    assert calibration.operating_point([strict, lenient]) == strict
