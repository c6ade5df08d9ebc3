"""Tiered assessment plans (``kind: assessment-plan``) and the coverage of targets by evidence.

`load_plan` reads and checks a plan; `coverage` compares the gradebook with it (or, without a
plan, with the courses' targets); `write_coverage` writes coverage.csv, planned.csv and
coverage.html (`mastery report coverage`).
"""

from mastery_cli.planning.model import AssessmentPlan, PlannedAssessment, build_plan, load_plan

__all__ = ["AssessmentPlan", "PlannedAssessment", "build_plan", "load_plan"]
