"""dbt commands for the tests that read what dbt returns, not the warehouse's rows."""


def dbt_result(settings, warehouse, *args: str):
    """One dbt command with dbt's own runner, as dbt returns it (the manifest of `parse`, the names of `ls`, the
    nodes of `compile`); fails the test when dbt fails."""
    from dbt.cli.main import dbtRunner

    from orchestration.settings import library_environment
    from orchestration.steps.dbt_runner import dbt_environment

    with library_environment(dbt_environment(settings, warehouse)):
        result = dbtRunner().invoke([*args, "--project-dir", str(settings.dbt_project_dir), "--quiet"])
    assert result.success, result.exception
    return result.result


def models(manifest) -> dict:
    """The manifest's models by name."""
    return {node.name: node for node in manifest.nodes.values() if node.resource_type == "model"}
