"""The parser sandbox: limits hold, and a busy process never deadlocks its child."""

import threading

import pytest

from core import sandbox

# Held by a thread of the asking process: a forked child would copy it held.
HELD = threading.Lock()


def take_the_lock() -> str:
    with HELD:
        return "read"


def spin() -> None:
    while True:
        pass


def refuse() -> None:
    raise sandbox.Refused("Not a log.")


def test_a_parser_still_answers_while_another_thread_holds_a_lock_it_needs():
    held, release = threading.Event(), threading.Event()

    def hold():
        with HELD:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    held.wait(5)
    try:
        assert sandbox.run(take_the_lock, seconds=20, memory_bytes=256 * 2**20) == "read"
    finally:
        release.set()
        holder.join(5)


def test_a_parser_past_its_time_is_stopped():
    with pytest.raises(sandbox.LimitExceeded, match="longer than 1 seconds"):
        sandbox.run(spin, seconds=1, memory_bytes=64 * 2**20)


def test_a_refusal_comes_back_in_its_own_words():
    with pytest.raises(sandbox.Refused, match="Not a log."):
        sandbox.run(refuse, seconds=20, memory_bytes=64 * 2**20)
