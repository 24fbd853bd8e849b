"""Measure the peak memory of reading a multi-GiB Inspect .json log whole (a figure, not a test).

The log is generated on disk from a real sample shape: a header, then N
samples of about 100 KiB each (long outputs, as agent transcripts are), and
a NaN in the results so the reader's non-number path runs too. It is read the
way an import reads it (findings.inspectlog.read_log, in its sandboxed child,
writing the sample index to a file), then the index is read back in batches
of 1,000 rows as the import inserts them. The child's and this process's peak
resident memory are reported: both should stay flat as the log grows.

    .venv/bin/python bench/inspect_memory.py [GiB]
"""

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisi_portal.settings")

import django  # noqa: E402

django.setup()

from findings import inspectlog  # noqa: E402

HEADER = {
    "version": 2,
    "status": "success",
    "eval": {
        "eval_id": "bench-eval-id",
        "run_id": "bench-run",
        "created": "2026-11-01T10:00:00+00:00",
        "task": "bench",
        "task_id": "bench",
        "task_version": 0,
        "dataset": {"name": "bench", "samples": 0},
        "model": "mockllm/model",
        "config": {},
        "packages": {},
    },
    "plan": {"name": "plan", "steps": [], "config": {}},
    "results": {
        "total_samples": 0,
        "completed_samples": 0,
        "scores": [
            {
                "name": "match",
                "scorer": "match",
                "metrics": {
                    "accuracy": {"name": "accuracy", "value": 0.5},
                    "empty": {"name": "empty", "value": float("nan")},
                },
            }
        ],
    },
    "stats": {
        "started_at": "2026-11-01T10:00:00+00:00",
        "completed_at": "2026-11-01T11:00:00+00:00",
    },
}


def write_log(path: Path, size: int) -> int:
    text = "The model's long answer. " * 4000  # about 100 KiB
    count = 0
    with path.open("w") as out:
        head = json.dumps(HEADER)
        out.write(head[:-1] + ', "samples": [')
        written = len(head)
        while written < size:
            sample = {
                "id": f"s{count}",
                "epoch": 1,
                "input": "Question?",
                "target": "Answer",
                "messages": [{"role": "user", "content": "Question?"}],
                "output": {"completion": text},
                "scores": {"match": {"value": "C" if count % 2 else "I"}},
            }
            piece = ("," if count else "") + json.dumps(sample)
            out.write(piece)
            written += len(piece)
            count += 1
        out.write("]}")
    return count


def main() -> None:
    gib = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.json"
        count = write_log(path, int(gib * 1024**3))
        size = path.stat().st_size
        started = time.monotonic()
        index_path = str(Path(folder) / "samples.jsonl")
        before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        inspectlog.read_log(str(path), size=size, index_path=index_path)
        indexed, batch = 0, []
        for row in inspectlog.index_rows(index_path):
            batch.append(row)
            if len(batch) == 1000:
                indexed += len(batch)
                batch = []
        indexed += len(batch)
        seconds = time.monotonic() - started
        # The reading runs in a child; RUSAGE_CHILDREN is the largest child's peak RSS.
        child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            f"{size / 2**30:.2f} GiB, {count:,} samples read in {seconds:.0f} s; "
            f"{indexed:,} indexed; reader's peak RSS {child_kib / 1024:.0f} MiB; "
            f"importing process {before_kib / 1024:.0f} → {self_kib / 1024:.0f} MiB"
        )


if __name__ == "__main__":
    main()
