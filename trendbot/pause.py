"""A test-only hook to stop the process at a named point, so a crash test kills it exactly there.

Crash tests (SIGKILL in the middle of a write) must not depend on timing: the process under test
runs with `TRENDBOT_TEST_PAUSE=POINT:FILE`; on reaching POINT it creates FILE (holding its pid)
and waits until it is killed, or until the test creates `FILE.go` (after doing what must happen
at that point, such as an editor's save). Without the variable, which only the tests set, nothing happens.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_ENV = "TRENDBOT_TEST_PAUSE"


def pause_point(name: str) -> None:
    """Test-only hook: with `TRENDBOT_TEST_PAUSE=NAME:FILE` set, the process creates FILE on
    reaching point NAME and stops there until killed (or told to go on by `FILE.go`), so a crash
    test kills it at a known point instead of at a random time. Unset (always, outside the tests) it does nothing."""
    wanted = os.environ.get(PAUSE_ENV)
    if not wanted:
        return
    point, _, marker = wanted.rpartition(":")
    if point != name or not marker:
        return
    Path(marker).write_text(str(os.getpid()), encoding="ascii")
    go = Path(marker + ".go")  # a test that does something meanwhile lets the process go on
    while not go.exists():
        time.sleep(0.01)
    go.unlink()
