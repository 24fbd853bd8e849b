"""Fixtures of the desk's tests: a case in testing with its evaluator, and Inspect logs."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from inspect_ai.log import (
    EvalConfig,
    EvalDataset,
    EvalLog,
    EvalMetric,
    EvalResults,
    EvalRevision,
    EvalScore,
    EvalSpec,
    write_eval_log,
)

from review.services import assign_evaluator

from .inspect_tasks import write_all_logs

INTERNAL_MARKER = "ZZ-INTERNAL-7731"


@pytest.fixture
def testing_case(case_at, cast):
    """An Acme case in testing, with the standard evaluator assigned."""
    case = case_at("testing")
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    return case


def write_inspect_log(
    path: Path,
    *,
    task: str = "jailbreak_suite",
    status: str = "success",
    accuracy: float = 0.958,
) -> Path:
    """Write a small Inspect log (format from the suffix) as Inspect itself would."""
    spec = EvalSpec(
        created="2026-11-01T10:00:00+00:00",
        run_id=f"run-{path.stem}",
        task=task,
        task_version=2,
        dataset=EvalDataset(name="jb-prompts", samples=400),
        model="acme/atlas-v1",
        config=EvalConfig(),
        revision=EvalRevision(type="git", origin="https://git.example/evals", commit="abc123"),
    )
    results = EvalResults(
        total_samples=400,
        completed_samples=400,
        scores=[
            EvalScore(
                name="refusal",
                scorer="model_graded_qa",
                metrics={
                    "accuracy": EvalMetric(name="accuracy", value=accuracy),
                    "stderr": EvalMetric(name="stderr", value=0.01),
                },
            ),
            EvalScore(
                name="harm", scorer="match", metrics={"mean": EvalMetric(name="mean", value=0.042)}
            ),
        ],
    )
    write_eval_log(EvalLog(eval=spec, status=status, results=results), str(path))
    return path


@pytest.fixture
def inspect_log(tmp_path):
    """Return a function that writes a small Inspect log and returns its path."""

    def write(*, suffix: str = ".eval", name: str = "run", **kwargs) -> Path:
        return write_inspect_log(tmp_path / f"{name}{suffix}", **kwargs)

    return write


@pytest.fixture(scope="session")
def inspect_logs(tmp_path_factory) -> dict[str, Path]:
    """Real logs Inspect wrote (mockllm, offline), by kind: "success.eval", "nan.json", ..."""
    return write_all_logs(tmp_path_factory.mktemp("inspect-logs"))


def upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def days_ago(days: float) -> dt.timedelta:
    return dt.timedelta(days=days)
