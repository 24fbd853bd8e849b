"""On the embedded default (SQLite) the database itself refuses changes to the timeline.

The suite's database is PostgreSQL; this test migrates a SQLite database of its
own in a subprocess, as `make run` does, and then writes to it directly.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("cases_caseevent", "cases_timelinecheckpoint", "cases_checkpointhead")


@pytest.fixture(scope="module")
def sqlite_portal(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("embedded")
    database = folder / "portal.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"}
    }
    env |= {
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "caisi_portal.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "MEDIA_ROOT": str(folder / "media"),
    }
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO cases_caseevent (case_id, seq, verb, from_status, to_status, details, "
            "internal, created_at, prev_hash, hash) "
            "VALUES (1, 1, 'case_opened', '', 'intake', '{}', 0, '2026-01-01 00:00:00', '', 'h')"
        )
        db.execute(
            "INSERT INTO cases_timelinecheckpoint (seq, signed_at, prev_root, root, signature, "
            "certificate_sha256) VALUES (1, '2026-01-01 00:00:00', '', 'r', 's', 'c')"
        )
        db.execute(
            "INSERT INTO cases_checkpointhead (checkpoint_id, case_id, case_number, seq, hash) "
            "VALUES (1, 1, 'CAISI-2026-0001', 1, 'h')"
        )
    return database


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("sql", ["UPDATE {t} SET seq = 2", "DELETE FROM {t}"])
def test_sqlite_refuses_update_and_delete_of_the_timeline(sqlite_portal, table, sql):
    with sqlite3.connect(sqlite_portal) as db:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(sql.format(t=table))
        assert db.execute(f"SELECT count(*), max(seq) FROM {table}").fetchone() == (1, 1)  # noqa: S608


def test_sqlite_still_takes_new_events(sqlite_portal):
    with sqlite3.connect(sqlite_portal) as db:
        db.execute(
            "INSERT INTO cases_caseevent (case_id, seq, verb, from_status, to_status, details, "
            "internal, created_at, prev_hash, hash) "
            "VALUES (1, 2, 'note_added', '', '', '{}', 0, '2026-01-01 00:00:01', 'h', 'h2')"
        )
        assert db.execute("SELECT count(*) FROM cases_caseevent").fetchone() == (2,)
        db.rollback()
