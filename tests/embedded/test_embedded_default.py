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
    report = _on_sqlite(tmp_path, "tests.embedded.walk", timeout=600)
    assert report["errors"] == []
    assert report["answered"] > 500  # six people, every page, every case
    first, second = report["swept"]
    assert first > 0 and second == 0  # the sweep's SQLite path sends each reminder once


def _on_sqlite(tmp_path, module: str, *args: str, timeout: int) -> dict:
    """Run a module of tests/embedded as `make run` would serve it; return the JSON it printed."""
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=_sqlite_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _sqlite_env(tmp_path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"}
    }
    return env | {
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "caisi_portal.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "CLEARANCE_SIGNING_KEY": str(tmp_path / "signing" / "statement.key"),
        "CLEARANCE_SIGNING_CERT": str(tmp_path / "signing" / "statement.crt"),
        "PYTHONPATH": str(ROOT),
    }


def _logs_of_every_kind(folder: Path) -> dict[str, Path]:
    """Real logs of every status, the 2024 format, and two cut-off logs, in a fixed order."""
    from tests.findings.inspect_tasks import write_all_logs

    folder.mkdir()
    logs = write_all_logs(folder)
    # The 2024 format has no eval id of its own (Inspect derives one from the run):
    # give each folder's copy its own run, as two real runs would have.
    v1 = json.loads(logs["v1.json"].read_text())
    v1["eval"]["run_id"] += folder.name
    logs["v1.json"].write_text(json.dumps(v1))
    whole = logs["success.eval"].read_bytes()
    logs["cut.eval"] = folder / "cut.eval"
    logs["cut.eval"].write_bytes(whole[: len(whole) * 2 // 3])
    logs["cut.json"] = folder / "cut.json"
    logs["cut.json"].write_bytes(logs["success.json"].read_bytes()[: 20 * 1024])
    return dict(sorted(logs.items()))


def test_every_kind_of_inspect_log_imports_on_sqlite_by_page_and_by_api(tmp_path):
    for_page = _logs_of_every_kind(tmp_path / "page")
    for_api = _logs_of_every_kind(tmp_path / "api")
    by_name = _on_sqlite(
        tmp_path,
        "tests.embedded.inspect_import",
        *map(str, for_page.values()),
        "--",
        *map(str, for_api.values()),
        timeout=900,
    )
    report = {kind: by_name[path.name] for kind, path in for_page.items()}
    for way in ("page", "api"):
        verdict = {name: answers[way] for name, answers in report.items()}
        for log_format in ("eval", "json"):
            success = verdict[f"success.{log_format}"]["run"]
            assert (success["status"], success["indexed"], success["total"]) == ("completed", 3, 3)
            epochs = verdict[f"epochs.{log_format}"]["run"]["metrics"]
            assert epochs["_right_in_first_epoch/accuracy (mean)"] == 0.5
            assert epochs["_right_in_first_epoch/accuracy (max)"] == 1.0
            nan = verdict[f"nan.{log_format}"]["run"]
            assert nan["metrics"]["_with_nan/nan_metric"] is None
            assert nan["notes"] == {"_with_nan/nan_metric": "NaN"}
            error = verdict[f"error.{log_format}"]["run"]
            assert (error["status"], error["error"]) == ("failed", True)
            one_error = verdict[f"one_error.{log_format}"]["run"]
            assert (one_error["completed"], one_error["total"]) == (2, 3)
            assert one_error["sample_errors"] == 1
            assert verdict[f"killed.{log_format}"]["run"]["status"] == "incomplete"
            assert verdict[f"cancelled.{log_format}"]["run"]["status"] == "cancelled"
            cut = verdict[f"cut.{log_format}"]
            assert "run" not in cut and cut["code"] == 400
            assert "cut off or damaged" in cut["said"] or "corrupt, truncated" in cut["said"]
        v1 = verdict["v1.json"]["run"]
        assert (v1["status"], v1["indexed"]) == ("completed", 2)
