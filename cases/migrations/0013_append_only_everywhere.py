"""Refuse changes to the timeline and its checkpoints at the database, on SQLite too.

PostgreSQL already refused UPDATE and DELETE of events (0002); TRUNCATE skips
row triggers, so it gets a statement trigger of its own, and the checkpoint
tables get all three. SQLite (the embedded default) has no TRUNCATE; its
triggers refuse UPDATE and DELETE. A SQLite table rebuilt by a later
migration loses its triggers: such a migration must install them again.
"""

from django.db import migrations

APPEND_ONLY = ("cases_caseevent", "cases_timelinecheckpoint", "cases_checkpointhead")

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the case timeline is append-only (% refused on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _postgresql(table: str) -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION portal_append_only();",
    ]
    if table != "cases_caseevent":  # 0002 guards its rows already
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION portal_append_only();",
        ]
    return statements


def _sqlite(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table}
        BEGIN
            SELECT RAISE(ABORT, 'the case timeline is append-only ({op} refused on {table})');
        END;"""
        for op in ("UPDATE", "DELETE")
    ]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FUNCTION, params=None)
        for table in APPEND_ONLY:
            for statement in _postgresql(table):
                schema_editor.execute(statement, params=None)
    elif vendor == "sqlite":
        for table in APPEND_ONLY:
            for statement in _sqlite(table):
                schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in APPEND_ONLY:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
            if table != "cases_caseevent":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        elif vendor == "sqlite":
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op};")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS portal_append_only();")


class Migration(migrations.Migration):
    dependencies = [("cases", "0012_timeline_checkpoints")]

    operations = [migrations.RunPython(install, uninstall)]
