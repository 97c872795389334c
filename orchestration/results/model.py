"""A run's result, typed: what each step reports and what the flow returns (results/render.py shows it).

`RunReport.as_json()` is what `smartgrid run --json` prints; its keys are those of the earlier untyped dicts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, computed_field, model_serializer

from orchestration.sources import NETWORK_COLUMNS

Severity = Literal["critical", "warning"]


class Report(BaseModel):
    """Checked on assignment too: a step's result assigned to a report is validated like a constructed one."""

    model_config = ConfigDict(validate_assignment=True)


Seconds = Annotated[float, PlainSerializer(lambda seconds: round(seconds, 2), return_type=float)]  # shown to 0.01 s


class TableLoad(Report):
    """One source table's part of a load (steps/loader.py)."""

    table: str
    hours_copied: int = 0  # source hours whose fingerprint differed from raw after the rows above the previous id
    rows_copied: int = 0  # rows streamed from the source (rows above the previous id, and those changed hours)
    rows_loaded: int = 0  # rows new to raw
    window_rows: int = 0  # source rows with "timestamp" inside the run's window
    changed_hours: list[str] = Field(default_factory=list)  # the hours copied (UTC, ISO), oldest first
    reconciled_from: str = ""  # where this load's hour-by-hour reconciliation began (UTC, ISO)
    swept_days: list[str] = Field(default_factory=list)  # older days the daily run's sweep compared (UTC dates)
    source_max_id: int = 0  # the highest source id this load saw


class LoadResult(Report):
    load_id: str
    loaded_at: datetime  # the earliest _loaded_at this load wrote (each table's transaction time)
    window_start: datetime
    window_end: datetime
    seconds: Seconds
    tables: dict[str, TableLoad]

    @computed_field
    @property
    def rows_loaded(self) -> int:
        """Readings new to raw (the optional network tables' versions are counted in their own `tables` entries)."""
        return sum(t.rows_loaded for name, t in self.tables.items() if name not in NETWORK_COLUMNS)

    @computed_field
    @property
    def window_is_empty(self) -> bool:
        return all(t.window_rows == 0 for t in self.tables.values())


class DbtTest(Report):
    """A dbt data test's result: what it checked, how severe a failure is, how many rows failed."""

    name: str
    checked_object: str
    severity: Severity
    status: str
    failures: int | None = None


class MartRebuild(Report):
    rows: int
    hours: int | None = None  # hourly marts
    days: int | None = None  # daily marts

    @model_serializer(mode="wrap")
    def _only_its_period(self, handler):
        return {key: value for key, value in handler(self).items() if value is not None}


class DbtReport(Report):
    command: str
    success: bool
    seconds: Seconds
    status_counts: dict[str, int] = Field(default_factory=dict)
    failures: list[str] = Field(default_factory=list)  # "test not_null_x: Got 3 results, ..."
    tests: list[DbtTest] = Field(default_factory=list)  # one per data test, for audit.dq_run_results
    rebuilt: dict[str, MartRebuild] = Field(default_factory=dict)  # per mart (from the dbt manifest)
    rejected_in_this_load: dict[str, int] = Field(default_factory=dict)  # reason code -> rows
    # every node with its status and seconds, for the run's `smartgrid-dbt-nodes` table artifact (not in --json)
    nodes: list[dict] = Field(default_factory=list, exclude=True)


class ExpectationCheck(Report):
    """One Great Expectations expectation's result, as audit.dq_run_results records it."""

    name: str
    checked_object: str
    severity: Severity
    success: bool
    observed_value: float | None
    threshold: str
    detail: str


class CheckpointStatistics(Report):
    evaluated_expectations: int = 0
    successful_expectations: int = 0
    unsuccessful_expectations: int = 0
    failed_critical: int = 0
    failed_warning: int = 0
    success_percent: float = 100.0


class CheckpointReport(Report):
    success: bool  # no critical expectation failed
    seconds: Seconds
    statistics: CheckpointStatistics = Field(default_factory=CheckpointStatistics)
    failed_expectations: list[str] = Field(default_factory=list)  # critical failures: they fail the run
    warnings: list[str] = Field(default_factory=list)  # failed warning-severity expectations
    rows_validated: dict[str, int] = Field(default_factory=dict)
    checks: list[ExpectationCheck] = Field(default_factory=list)
    data_docs: str | None = None


class DqCheck(Report):
    """A row of audit.dq_run_results (without the run's columns)."""

    check_source: Literal["great_expectations", "dbt"]
    check_name: str
    checked_object: str
    severity: Severity
    success: bool
    observed_value: float | None
    threshold: str | None
    detail: str | None


class DataQualityReport(Report):
    run_id: str
    score: float
    checks: int
    failed_critical: list[DqCheck] = Field(default_factory=list)
    failed_warning: list[DqCheck] = Field(default_factory=list)
    table: str


class RetentionReport(Report):
    horizon: str
    rows_deleted: dict[str, int]


class RunWindow(Report):
    start: str  # ISO, UTC, with Z
    end: str

    @classmethod
    def of(cls, start: datetime, end: datetime) -> RunWindow:
        return cls(start=start.isoformat() + "Z", end=end.isoformat() + "Z")


class RunReport(Report):
    """Everything a run of smartgrid_etl_flow did; `error` is set only when it failed."""

    success: bool = True
    window: RunWindow | None = None
    warnings: list[str] = Field(default_factory=list)
    load: LoadResult | None = None
    dbt: DbtReport | None = None
    checkpoint: CheckpointReport | None = None
    data_quality: DataQualityReport | None = None
    cleanup: RetentionReport | None = None
    grid_report: dict | None = None  # the grid report: its path, `rebuilt`, and when rebuilt its key figures
    error: str | None = None

    def as_dict(self) -> dict:
        """JSON-ready; a step that did not run is null, and a key the run never reached is left out."""
        reached = self.model_fields_set | {"success"}
        return {key: value for key, value in self.model_dump(mode="json").items() if key in reached}

    def failed(self, error: str) -> RunReport:
        return self.model_copy(update={"success": False, "error": error})
