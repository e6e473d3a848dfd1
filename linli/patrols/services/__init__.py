"""Writes of the patrols app, one function per use case (keyword-only, typed). Import them from here."""

from linli.patrols.services.problems import ProblemResult, patrol_problem_report
from linli.patrols.services.recording import (
    MAX_BATCH,
    PointIn,
    Rejected,
    StartResult,
    UploadResult,
    patrol_end,
    patrol_fixes,
    patrol_points_upload,
    patrol_start,
    patrol_summarize,
    patrols_close_stale,
)
from linli.patrols.services.retention import PurgeReport, patrol_tracks_purge

__all__ = [
    "MAX_BATCH",
    "PointIn",
    "ProblemResult",
    "PurgeReport",
    "Rejected",
    "StartResult",
    "UploadResult",
    "patrol_end",
    "patrol_fixes",
    "patrol_points_upload",
    "patrol_problem_report",
    "patrol_start",
    "patrol_summarize",
    "patrol_tracks_purge",
    "patrols_close_stale",
]
