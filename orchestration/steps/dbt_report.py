"""A finished dbt command as the run reports it (DbtReport): counts per status, every node's seconds, one line per
failed node, and each data test's result for audit.dq_run_results."""

from __future__ import annotations

from orchestration.results.model import DbtReport, DbtTest

FAILED_STATUSES = {"error", "fail", "runtime error"}


def summarize(command: str, result, seconds: float) -> DbtReport:
    """Turn a dbtRunnerResult into counts per status and one line per failed node."""
    outcome = DbtReport(command=command, success=bool(result.success), seconds=seconds)
    for node_result in getattr(result.result, "results", None) or []:
        status = str(getattr(node_result.status, "value", node_result.status)).lower()
        outcome.status_counts[status] = outcome.status_counts.get(status, 0) + 1
        node = node_result.node
        outcome.nodes.append(
            {"node": node.unique_id, "status": status, "seconds": round(node_result.execution_time or 0, 2)}
        )
        if status in FAILED_STATUSES:
            outcome.failures.append(f"{node.resource_type} {node.name}: {_failure_line(node_result.message, status)}")
        if str(getattr(node.resource_type, "value", node.resource_type)) == "test":
            outcome.tests.append(data_test_result(node, node_result, status))
    return outcome


def data_test_result(node, node_result, status: str) -> DbtTest:
    """A dbt data test's result: what it checked, how severe a failure is, how many rows failed."""
    attached = getattr(node, "attached_node", None) or next(iter(node.depends_on.nodes), "")
    return DbtTest(
        name=node.name,
        checked_object=attached.split(".")[-1],
        severity="critical" if str(node.config.severity).lower() == "error" else "warning",
        status=status,
        failures=getattr(node_result, "failures", None),
    )


def _failure_line(message: str | None, status: str) -> str:
    """A failed node's message in one line: dbt's first line, and for a database error the database's own line
    after it (a row a table refuses: `duplicate key value violates unique constraint "..."`)."""
    lines = [line.strip() for line in (message or status).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Database Error") and not lines[1].startswith("compiled code at"):
        return f"{lines[0]}: {lines[1]}"
    return lines[0] if lines else status
