"""A test-only hook to stop the process at a named point, so a crash test kills it exactly there.

Crash tests (SIGKILL in the middle of a write) must not depend on timing: the process under test
runs with `TRENDBOT_TEST_PAUSE=POINT:FILE`; on reaching POINT it creates FILE (holding its pid)
and sleeps until it is killed. Without the variable, which only the tests set, nothing happens.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_ENV = "TRENDBOT_TEST_PAUSE"


def pause_point(name: str) -> None:
    """Test-only hook: with `TRENDBOT_TEST_PAUSE=NAME:FILE` set, the process creates FILE on
    reaching point NAME and stops there until killed, so a crash test kills it at a known point
    instead of at a random time. Unset (always, outside the tests) it does nothing."""
    wanted = os.environ.get(PAUSE_ENV)
    if not wanted:
        return
    point, _, marker = wanted.rpartition(":")
    if point != name or not marker:
        return
    Path(marker).write_text(str(os.getpid()), encoding="ascii")
    while True:
        time.sleep(3600)
