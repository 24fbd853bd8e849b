"""The embedded default (`make run`): SQLite and in-process tasks, not PostgreSQL.

The rest of the suite runs on PostgreSQL, where a PostgreSQL-only query would
pass unnoticed and then fail for everyone trying the portal.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_answers_every_demo_user_on_sqlite(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"}
    }
    env |= {
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "caisi_portal.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "CLEARANCE_SIGNING_KEY": str(tmp_path / "signing" / "statement.key"),
        "CLEARANCE_SIGNING_CERT": str(tmp_path / "signing" / "statement.crt"),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "tests.embedded.walk"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == []
    assert report["answered"] > 500  # six people, every page, every case
    first, second = report["swept"]
    assert first > 0 and second == 0  # the sweep's SQLite path sends each reminder once
