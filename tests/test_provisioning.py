"""scripts/provision installs the missing packages of system-packages.txt, and the Makefile,
CI and the image install them through it alone.

The system's package manager is not touched: `dpkg-query`, `apt-get` and `id` are small
stubs put first on PATH, which write down how they were called."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "provision"


def listed() -> dict[str, str]:
    """Each package of system-packages.txt, with the set it belongs to."""
    packages = {}
    for line in (ROOT / "system-packages.txt").read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            name, group = fields
            packages[name] = group
    return packages


def stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def system(tmp_path):
    """A fake package manager on which `poppler-utils` is not installed, and a fake `id`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    calls.touch()
    stub(
        bin_dir,
        "dpkg-query",
        f'printf "%s\\n" "dpkg-query $*" >> {calls}\n'
        "for last; do :; done\n"
        'case " $MISSING " in *" $last "*)\n'
        '  echo "dpkg-query: no packages found matching $last" >&2; exit 1;;\n'
        "esac\n"
        'echo "install ok installed"',
    )
    stub(
        bin_dir,
        "apt-get",
        f'printf "%s\\n" "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> {calls}',
    )
    stub(bin_dir, "id", 'echo "$FAKE_UID"')

    def run(group: str, *, uid: int = 0, missing: str = "poppler-utils", path: str = ""):
        env = {
            "PATH": path or f"{bin_dir}:{os.environ['PATH']}",
            "FAKE_UID": str(uid),
            "MISSING": missing,
        }
        result = subprocess.run(  # noqa: S603  # the project's own script
            [str(SCRIPT), group], capture_output=True, text=True, env=env, timeout=30
        )
        return result, calls.read_text().splitlines()

    run.bin_dir = bin_dir
    return run


def test_as_root_installs_exactly_the_missing_package(system):
    result, calls = system("test", uid=0)

    assert result.returncode == 0, result.stderr
    queried = [call.split()[-1] for call in calls if call.startswith("dpkg-query")]
    assert queried == list(listed())
    assert [call for call in calls if call.startswith("apt-get")] == [
        "apt-get update DEBIAN_FRONTEND=noninteractive",
        "apt-get install -y --no-install-recommends poppler-utils DEBIAN_FRONTEND=noninteractive",
    ]


def test_without_root_stops_and_prints_the_command_to_run(system):
    result, calls = system("test", uid=1000, missing="chromium poppler-utils")

    assert result.returncode != 0
    assert "sudo apt-get install -y --no-install-recommends chromium poppler-utils" in result.stderr
    assert not [call for call in calls if call.startswith("apt-get")]


def test_nothing_missing_calls_no_apt_get(system):
    result, calls = system("test", uid=1000, missing="")

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) <= 1
    assert not [call for call in calls if call.startswith("apt-get")]


def test_run_set_leaves_out_the_packages_only_tests_need(system):
    result, calls = system("run", uid=1000)

    # poppler-utils is missing, but `make run` does not need it.
    assert result.returncode == 0, result.stderr
    queried = [call.split()[-1] for call in calls if call.startswith("dpkg-query")]
    assert queried == [name for name, group in listed().items() if group == "run"]
    assert "chromium" not in queried
    assert "poppler-utils" not in queried


def test_without_dpkg_query_it_warns_and_goes_on(system, tmp_path):
    # A PATH with only what the script needs besides dpkg-query and apt-get.
    bare = tmp_path / "bare"
    bare.mkdir()
    for tool in ("awk", "dirname"):
        (bare / tool).symlink_to(shutil.which(tool))
    (bare / "id").symlink_to(system.bin_dir / "id")

    result, calls = system("test", uid=1000, path=str(bare))

    assert result.returncode == 0, result.stderr
    assert "no dpkg-query" in result.stderr
    assert "poppler-utils" in result.stderr
    assert calls == []


def test_every_listed_package_belongs_to_a_set():
    packages = listed()
    assert set(packages.values()) == {"run", "test"}
    assert {"chromium", "poppler-utils"} <= set(packages)


@pytest.mark.parametrize(
    ("name", "provisioned_by"),
    [
        ("Makefile", "scripts/provision test"),
        ("Makefile", "scripts/provision run"),
        (".ci/run", "make test"),
        ("Dockerfile", "scripts/provision run"),
    ],
)
def test_no_other_file_lists_packages_of_its_own(name, provisioned_by):
    text = (ROOT / name).read_text()
    assert provisioned_by in text
    for package in listed():
        assert not re.search(rf"(?<![\w.-]){re.escape(package)}(?![\w.-])", text), (
            name,
            package,
        )
    assert "apt-get install" not in text
