"""Writes of the people app (households, care, stewards, sweeps); import from here."""

from linli.people.services.care import (
    care_due_recompute,
    care_level_update,
    care_record_close,
    care_record_open,
    care_record_update,
    care_visit_record,
)
from linli.people.services.households import (
    household_get_or_create,
    people_grids_sync,
    resident_move_in,
    resident_move_out,
    resident_update,
)
from linli.people.services.stewards import (
    steward_buildings_set,
    steward_photo_set,
    steward_register,
    steward_update,
)
from linli.people.services.sweeps import care_overdue_sweep, people_retention_sweep
from linli.people.transitions import steward_transition

__all__ = [
    "care_due_recompute",
    "care_level_update",
    "care_overdue_sweep",
    "care_record_close",
    "care_record_open",
    "care_record_update",
    "care_visit_record",
    "household_get_or_create",
    "people_grids_sync",
    "people_retention_sweep",
    "resident_move_in",
    "resident_move_out",
    "resident_update",
    "steward_buildings_set",
    "steward_photo_set",
    "steward_register",
    "steward_transition",
    "steward_update",
]
