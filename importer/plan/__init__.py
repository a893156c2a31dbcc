"""The planner: Simkl's history rules applied offline to the events frame."""

from importer.plan.model import WRITE_SCHEMA, Plan, PlanOptions, empty_writes
from importer.plan.planner import build_plan

__all__ = ["WRITE_SCHEMA", "Plan", "PlanOptions", "build_plan", "empty_writes"]
