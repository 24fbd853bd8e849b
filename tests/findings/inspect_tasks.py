"""Tiny Inspect tasks, run offline against `mockllm/model`, to write real logs in every status.

`mockllm/model` answers every prompt with "Default output from mockllm/model",
so the targets below decide which samples score correct.
"""

import contextlib
import functools
import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from inspect_ai import Epochs, Task, task
from inspect_ai import eval as run_eval
from inspect_ai.dataset import Sample
from inspect_ai.log import read_eval_log, write_eval_log
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import Score, accuracy, includes, mean, metric, scorer, stderr
from inspect_ai.solver import generate, solver

MOCK_OUTPUT = "Default output from mockllm/model"


def mock_model():
    """The offline mock model; its usage is given, so no tokenizer is fetched."""

    def outputs():
        while True:
            output = ModelOutput.from_content(model="mockllm/model", content=MOCK_OUTPUT)
            output.usage = ModelUsage(input_tokens=10, output_tokens=6, total_tokens=16)
            yield output

    return get_model("mockllm/model", custom_outputs=outputs())


def _samples(count: int = 3) -> list[Sample]:
    targets = ["Default output", "mockllm", "no such words"]
    return [
        Sample(id=f"s{n + 1}", input=f"Question {n + 1}: say something.", target=targets[n % 3])
        for n in range(count)
    ]


@task
def refusal_probe():
    """Three samples, two of which the mock output matches."""
    return Task(dataset=_samples(), solver=generate(), scorer=includes())


@task
def epochs_probe():
    """Two epochs reduced by mean and by max: one sample right in one epoch only."""
    return Task(
        dataset=[Sample(id="only", input="Say it.", target="Default output")],
        solver=generate(),
        scorer=[_right_in_first_epoch(), _length()],
        epochs=Epochs(2, ["mean", "max"]),
    )


@scorer(metrics=[accuracy()])
def _right_in_first_epoch():
    async def score(state, target):
        return Score(value="C" if state.epoch == 1 else "I")

    return score


@scorer(metrics=[mean()])
def _length():
    async def score(state, target):
        return Score(value=len(state.output.completion))

    return score


@metric
def nan_metric():
    def compute(scores):
        return float("nan")

    return compute


@scorer(metrics=[accuracy(), stderr(), nan_metric()])
def _with_nan():
    async def score(state, target):
        return Score(value="C" if MOCK_OUTPUT.startswith(target.text) else "I")

    return score


@task
def nan_probe():
    """A metric that is not a number, as Inspect writes it (NaN)."""
    return Task(dataset=_samples(), solver=generate(), scorer=_with_nan())


@solver
def _fails(sample_ids: tuple[str, ...] = ()):
    async def solve(state, generate):
        if not sample_ids or state.sample_id in sample_ids:
            raise RuntimeError("the sandbox went away")
        return state

    return solve


@task
def error_probe():
    """Every sample raises: the run ends in error."""
    return Task(dataset=_samples(), solver=[_fails(), generate()], scorer=includes())


@task
def one_error_probe():
    """One of three samples raises; the run tolerates it (fail_on_error=False)."""
    return Task(dataset=_samples(), solver=[_fails(("s2",)), generate()], scorer=includes())


@solver
def _interrupted():
    async def solve(state, generate):
        raise KeyboardInterrupt

    return solve


@task
def killed_probe():
    """The run is interrupted, as Ctrl-C interrupts it: the log stays "started"."""
    return Task(dataset=_samples(), solver=[_interrupted(), generate()], scorer=includes())


def not_a_number(value) -> bool:
    return isinstance(value, float) and (math.isnan(value) or math.isinf(value))


RUNS = {
    "success": (refusal_probe, {}),
    "epochs": (epochs_probe, {}),
    "nan": (nan_probe, {}),
    "error": (error_probe, {}),
    "one_error": (one_error_probe, {"fail_on_error": False}),
    "killed": (killed_probe, {}),
}


def in_a_thread_of_its_own(function):
    """Run Inspect apart from the caller's thread: a running event loop there (Playwright's,
    in a browser test earlier in the same process) would make Inspect refuse to start."""

    @functools.wraps(function)
    def apart(*args, **kwargs):
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(function, *args, **kwargs).result()

    return apart


@in_a_thread_of_its_own
def write_log(folder: Path, kind: str, log_format: str) -> Path:
    """Run one task of RUNS offline and return the log Inspect wrote ("eval" or "json")."""
    task_function, options = RUNS[kind]
    out = folder / f"{kind}-{log_format}"
    # The killed run raises KeyboardInterrupt: Inspect leaves its log "started".
    with contextlib.suppress(KeyboardInterrupt):
        run_eval(
            task_function(),
            model=mock_model(),
            log_dir=str(out),
            log_format=log_format,
            display="none",
            **options,
        )
    (written,) = out.iterdir()
    return written


@in_a_thread_of_its_own
def write_all_logs(folder: Path) -> dict[str, Path]:
    """Run each task offline and return its logs by kind: "<kind>.eval" and "<kind>.json"."""
    logs = {
        f"{kind}.{log_format}": write_log(folder, kind, log_format)
        for kind in RUNS
        for log_format in ("eval", "json")
    }
    # Inspect writes "cancelled" when its run is cancelled from outside (a signal to the
    # eval set); no in-process task can do that, so a success log is written again with
    # that status through Inspect's own writer.
    for log_format in ("eval", "json"):
        log = read_eval_log(str(logs[f"success.{log_format}"]))
        log.status = "cancelled"
        log.eval.eval_id = log.eval.eval_id + "c"
        path = folder / f"cancelled.{log_format}"
        write_eval_log(log, str(path))
        logs[f"cancelled.{log_format}"] = path
    logs["v1.json"] = write_2024_log(folder / "v1.json")
    return logs


def write_2024_log(path: Path) -> Path:
    """Write a log in the 2024 format (schema version 1): one scorer, one score per sample."""
    log = {
        "version": 1,
        "status": "success",
        "eval": {
            "task": "theory_of_mind",
            "task_version": 0,
            "task_file": "theory_of_mind.py",
            "task_id": "8Wn9RkYQGKLpZ5cqqsh7Eh",
            "run_id": "4Ck8R3Ln6XYZ8YoF2jGGpN",
            "created": "2024-05-29T12:38:43",
            "dataset": {
                "name": "theory_of_mind",
                "location": "example://theory_of_mind",
                "samples": 2,
                "shuffled": False,
            },
            "model": "openai/gpt-4",
            "task_attribs": {},
            "task_args": {},
            "model_args": {},
            "config": {"limit": 2},
            "packages": {"inspect_ai": "0.3.10"},
        },
        "plan": {"name": "plan", "steps": [{"solver": "generate", "params": {}}], "config": {}},
        "results": {
            "scorer": {"name": "model_graded_fact", "params": {}},
            "metrics": {
                "accuracy": {"name": "accuracy", "value": 0.5, "options": {}},
                "bootstrap_std": {"name": "bootstrap_std", "value": 0.5, "options": {}},
            },
        },
        "stats": {
            "started_at": "2024-05-29T12:38:43",
            "completed_at": "2024-05-29T12:38:50",
            "model_usage": {},
        },
        "logging": [],
        "samples": [
            {
                "id": sample_id,
                "epoch": 1,
                "input": f"Story {sample_id}. Where will Jackson look for the boots?",
                "target": "the cupboard",
                "messages": [
                    {"content": f"Story {sample_id}.", "source": "input", "role": "user"},
                    {"content": answer, "source": "generate", "role": "assistant"},
                ],
                "output": {
                    "model": "gpt-4",
                    "choices": [
                        {
                            "message": {
                                "content": answer,
                                "source": "generate",
                                "role": "assistant",
                            },
                            "stop_reason": "stop",
                        }
                    ],
                },
                "score": {"value": value, "answer": answer, "explanation": "graded"},
                "metadata": {},
            }
            for sample_id, answer, value in ((1, "the cupboard", "C"), (2, "the garden", "I"))
        ],
    }
    # The 2024 release wrote no eval_id; Inspect derives it on reading.
    path.write_text(json.dumps(log, indent=2))
    return path
