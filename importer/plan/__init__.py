"""The planner: Simkl's history rules applied offline to the events frame."""

from importer.plan.model import WRITE_SCHEMA, Plan, PlanOptions, empty_writes

__all__ = ["WRITE_SCHEMA", "Plan", "PlanOptions", "empty_writes"]
