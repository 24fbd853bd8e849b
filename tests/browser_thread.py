"""Run a Playwright session in its own thread."""

import threading


def in_own_thread(work):
    """Run `work` in a fresh thread and return its result.

    Playwright's sync API refuses a thread that already runs an event loop, as the
    test thread does while the browser suite's session-wide Chromium is open.
    """
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as error:  # re-raised in the test thread
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
