"""The layers hold: no import cycle between apps, and the script that says so can see one."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "import_cycles.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )


def test_the_portal_has_no_import_cycle_between_apps():
    result = run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no import cycle between apps" in result.stdout


def test_a_cycle_hidden_in_a_function_is_found(tmp_path):
    for name in ("alpha", "beta"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / "alpha" / "models.py").write_text("from beta import services\n")
    (tmp_path / "beta" / "services.py").write_text(
        "def act():\n    from alpha import models  # hidden from start-up\n    return models\n"
    )
    result = run("--root", str(tmp_path), "alpha", "beta")
    assert result.returncode == 1
    assert "app cycle: alpha <-> beta" in result.stdout
    assert "beta -> alpha: beta.services -> alpha.models" in result.stdout
