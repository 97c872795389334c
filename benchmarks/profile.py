"""The profile of a timed run's heavy dbt models (issue 17, item 5): where each model's seconds go.

For every model that took PROFILE_SECONDS or more in the run, in a transaction that is rolled back afterwards:

1. EXPLAIN (ANALYZE, BUFFERS, WAL) of its incremental batch: the select dbt runs into a temporary table, compiled
   with var incremental_since=latest_load (as `make compare-incremental` does), so it is the batch of the run
   just timed: the rows its latest load brought.
   The batch's keys are deleted from the model's table first, so a model that reads its own table (the validated
   models re-rank new rows with the rows already there) sees it as the run did, not with the run's rows in it.
2. EXPLAIN (ANALYZE, BUFFERS, WAL) of the insert of the batch into the table: the write with every index of the
   model.

The plans go to benchmarks/profiles/<part>.txt (committed with the results line that names the file); the line
gets each model's batch rows, the two statements' milliseconds and the insert's WAL. Nothing is changed: the
transaction is rolled back, and the compiled SQL is written to a temporary directory.
"""

from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import smartgrid
from orchestration.db.connection import connected

PROFILE_SECONDS = 2.0  # issue 17: the profile of any model over 2 s
PROFILES = Path(__file__).with_name("profiles")


def heavy_models(run: dict) -> list[str]:
    """The models of a flow_run's timings (keys "  <model>"; tests are "  test ...") that took PROFILE_SECONDS or
    more; the 3 slowest when none did (a quick run, a fast machine), so the profile always says where time goes."""
    models = sorted(((seconds, key.strip()) for key, seconds in run.items()
                     if key.startswith("  ") and not key.startswith("  test ")), reverse=True)  # fmt: skip
    return [model for seconds, model in models if seconds >= PROFILE_SECONDS] or [model for _, model in models[:3]]


def profile_models(warehouse, models: list[str], name: str, title: str) -> dict:
    """Profile `models` on `warehouse` as it is after a run; write benchmarks/profiles/<name>.txt; return, per
    model, its batch rows, the batch select's and the insert's milliseconds, and the insert's WAL."""
    if not models:
        return {}
    with tempfile.TemporaryDirectory(prefix="smartgrid-profile-") as target:
        smartgrid("dbt", "compile", "--select", *models, "--vars", "{incremental_since: latest_load}",
                  "--target-path", target)  # fmt: skip
        nodes = json.loads((Path(target) / "manifest.json").read_text())["nodes"]
        compiled = {path.stem: path.read_text() for path in Path(target).glob("compiled/**/*.sql")}
    sections, summary = [], {}
    for model in models:
        node = next(node for node in nodes.values() if node["resource_type"] == "model" and node["name"] == model)
        plans = _profile_one(warehouse, node, compiled[model])
        summary[model] = plans["summary"]
        sections.append(f"=== {model}: {plans['summary']}\n\n--- the batch (select into a temporary table)\n"
                        f"{plans['batch']}\n\n--- the insert of the batch, every index of the model\n"
                        f"{plans['insert']}")  # fmt: skip
    PROFILES.mkdir(exist_ok=True)
    path = PROFILES / f"{name}.txt"
    taken_at = datetime.now(UTC).isoformat(timespec="seconds")
    path.write_text(f"{title}\nprofiled at {taken_at} (benchmarks/profile.py); models of {PROFILE_SECONDS} s or more "
                    "in the run (else its 3 slowest)\n\n" + "\n\n".join(sections) + "\n", encoding="utf-8")  # fmt: skip
    return {"file": str(path.relative_to(PROFILES.parent.parent)), "taken at": taken_at, "models": summary}


def _profile_one(warehouse, node: dict, batch_sql: str) -> dict:
    table = f'{node["schema"]}."{node["alias"]}"'
    unique_key = node["config"].get("unique_key")
    keys = [unique_key] if isinstance(unique_key, str) else list(unique_key or [])
    time_key = node["config"].get("time_key")
    inserted_where = node["config"].get("inserted_rows_where")
    with connected(warehouse, application="smartgrid-bench-profile") as conn, conn.cursor() as cur:
        try:
            # the run's rows leave the table first (a validated model re-ranks its new rows with the rows already
            # there: its own would double the batch); then the batch is built again, as the run built it
            cur.execute(f"create temporary table profile_keys as select * from ({batch_sql}) as batch")
            if keys:
                key_list = ", ".join(keys)
                within = (f" and {time_key} between (select min({time_key}) from profile_keys) "
                          f"and (select max({time_key}) from profile_keys)") if time_key else ""  # fmt: skip
                cur.execute(f"delete from {table} where ({key_list}) in "
                            f"(select {key_list} from profile_keys){within}")  # fmt: skip
            batch = _explain(cur, f"create temporary table profile_batch as {batch_sql}")
            cur.execute("select count(*) from profile_batch")
            rows = cur.fetchone()[0]
            cur.execute("select column_name from information_schema.columns where table_schema = %s "
                        "and table_name = %s order by ordinal_position", (node["schema"], node["alias"]))  # fmt: skip
            columns = ", ".join(f'"{name}"' for (name,) in cur.fetchall())
            where = f" where {inserted_where}" if inserted_where else ""
            insert = _explain(cur, f"insert into {table} ({columns}) select {columns} from profile_batch{where}")
        finally:
            conn.rollback()
    return {
        "batch": batch,
        "insert": insert,
        "summary": {
            "batch rows": rows,
            "batch ms": _execution_ms(batch),
            "insert ms": _execution_ms(insert),
            "insert WAL MB": round(_wal_bytes(insert) / 1e6, 1),
        },
    }


def _explain(cur, statement: str) -> str:
    cur.execute(f"explain (analyze, buffers, wal) {statement}")
    return "\n".join(line for (line,) in cur.fetchall())


def _execution_ms(plan: str) -> int:
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return round(float(found.group(1))) if found else 0


def _wal_bytes(plan: str) -> int:
    found = re.search(r"WAL: .*?bytes=(\d+)", plan)  # the top node's: the statement's whole WAL
    return int(found.group(1)) if found else 0
