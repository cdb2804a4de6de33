"""One daemon per database: an advisory `flock` on a file next to the database.

The kernel drops a `flock` when its process dies, however it dies (even SIGKILL or a power
cut), so a crash can never leave the lock stuck; the pid written into the file is only there
to name the holder in the error message. A `trendbot fetch` from cron takes no lock: SQLite's
WAL plus `BEGIN IMMEDIATE` (see `trendbot/store.py`) already keeps it and the daemon apart.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from trendbot.errors import LockedError


def lock_path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class DaemonLock:
    """`with DaemonLock(db_path):` holds the database for this process, or raises LockedError."""

    def __init__(self, db_path: Path):
        self.db_path = Path(db_path)
        self.path = lock_path_for(self.db_path)
        self._fd: int | None = None

    def acquire(self) -> DaemonLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise LockedError(
                f"{self.db_path}: another `trendbot run`{who} is already using this database "
                f"(lock file {self.path}); stop it first, or give this one its own --db"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        # Truncate, never unlink: unlinking would let a third process lock a fresh inode
        # while a second one still waits on the old file.
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> DaemonLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
