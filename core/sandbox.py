"""Run a parser of uploaded content in a child process, with a time and a memory limit.

The parsers the portal relies on (YAML, Markdown, JSON, zip, zstd, Inspect's
log reader) are libraries, and a crafted file may find a slow or hungry path
through one of them that no check here foresaw. In a child process such a
file costs at most the limits: the web worker's interpreter and memory are
never its to take, and a child past its time is killed.

A child is a fresh interpreter, never a fork: a fork copies the asking
process's locks and connections as they are (a thread's held lock, the
broker connection pool that kombu closes after a fork, in the middle of a
read it then waits on for ever), and such a child hangs until it is killed.
The fresh child sets Django up if the parent had it, loads the parser, says
it is ready, and only then does its time limit start.
"""

import importlib
import multiprocessing
import os
import resource
from collections.abc import Callable
from typing import Any

# How long a fresh interpreter may take to load the parser before its time starts.
START_SECONDS = 120


class Refused(Exception):
    """The parser refuses the input; the message is for the person who sent it."""


class LimitExceeded(Exception):
    """The parser ran past its time or memory; the input is refused as too costly to read."""


def run(func: Callable[..., Any], *args: Any, seconds: float, memory_bytes: int) -> Any:
    """Return func(*args) computed in a child process, or raise Refused or LimitExceeded.

    `func` is a module-level function, named to the child by its module and
    name; the result is plain data (it is pickled back).
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    target = (func.__module__, func.__qualname__)
    child = context.Process(
        target=_run_child, args=(sender, memory_bytes, target, args), daemon=True
    )
    child.start()
    sender.close()
    try:
        if not receiver.poll(START_SECONDS):
            raise LimitExceeded("the reader could not be started")
        first = receiver.recv()
        if first != "ready":  # it failed before it could start: that is the outcome
            outcome, value = first
        elif not receiver.poll(seconds):
            raise LimitExceeded(f"it took longer than {seconds:g} seconds to read")
        else:
            outcome, value = receiver.recv()
    except EOFError:  # the child died without answering: killed, or out of memory in C
        outcome, value = "memory", None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    if outcome == "ok":
        return value
    if outcome == "refused":
        raise Refused(value)
    if outcome == "memory":
        raise LimitExceeded(f"it needs more than {memory_bytes // 2**20} MiB of memory to read")
    raise RuntimeError(f"The parser failed: {value}")


def _load(target: tuple[str, str]) -> Callable[..., Any]:
    """Return the function named by (module, name), setting Django up first if needed."""
    module_name, name = target
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        django = importlib.import_module("django")
        django.setup()
    return getattr(importlib.import_module(module_name), name)


def _run_child(sender, memory_bytes: int, target: tuple[str, str], args) -> None:
    try:
        func = _load(target)
        sender.send("ready")
        _limit_memory(memory_bytes)
        result = func(*args)
    except Refused as refusal:
        sender.send(("refused", str(refusal)))
    except MemoryError:
        sender.send(("memory", None))
    except BaseException as error:  # noqa: BLE001 - whatever it is, the parent must hear of it
        sender.send(("error", f"{type(error).__name__}: {error}"[:1000]))
    else:
        sender.send(("ok", result))
    finally:
        sender.close()


def _limit_memory(budget: int) -> None:
    """Cap this process's address space at what it has mapped now plus `budget`."""
    try:
        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # no /proc: cap the whole address space at the budget
        mapped = 0
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = mapped + budget
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
