"""Reading and writing the person's files: whole, UTF-8, and atomically.

A post is replaced by a temporary file in the same folder, fsynced and renamed over it, so a
reader (Jekyll, an editor, git) sees the old file or the new one, never half of one, and a
killed run leaves nothing but a temporary file the next run removes.
"""

from __future__ import annotations

import difflib
import hashlib
import errno
import glob
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from trendbot.config import display_path
from trendbot.errors import PublishError
from trendbot.pause import pause_point


@dataclass(frozen=True)
class Snapshot:
    """What a file was when it was read: enough to tell that it changed since."""

    size: int
    mtime_ns: int
    sha256: str


def snapshot(path: Path) -> Snapshot | None:
    try:
        info = path.stat()
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return Snapshot(info.st_size, info.st_mtime_ns, digest.hexdigest())


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PublishError(f"{display_path(path)}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PublishError(f"{display_path(path)}: not UTF-8 (byte {exc.start}); left as it is") from None


def remove_stale_temporaries(path: Path) -> None:
    """Delete the temporary files a killed trendbot left beside `path` (`.NAME.PID.*.tmp` whose
    process is gone); a live process's file is left to it."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = leftover.name[len(path.name) + 2:].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            leftover.unlink(missing_ok=True)
        except OSError:
            pass


class Changed(Exception):
    """The file is no longer what was read: someone saved it while trendbot was writing."""


def write_atomic(path: Path, text: str | Sequence[Piece], expect: Snapshot | None = None) -> None:
    """Temporary file in the same folder, fsync, rename: a reader sees the old or the new file.
    `text` may be a sequence of pieces (the spans of a large post around the block that changed),
    written one after the other a megabyte at a time: nothing holds the new file whole in memory.
    A failure (a full disk, a read-only folder) leaves the old file and says which file. With
    `expect`, the file must still be what was read right before the rename (an editor's save
    in the meantime raises `Changed`, the file as the person saved it)."""
    try:
        _write_atomic(path, text, expect)
    except OSError as exc:
        reason = "no space left on the device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise PublishError(f"{display_path(path)}: not written ({reason}); the file is as it was") from None


CHUNK = 1 << 20  # characters encoded at a time


Piece = str | tuple[str, int, int]  # a text, or the span text[start:stop] of one (never copied whole)


def _span(piece: Piece) -> tuple[str, int, int]:
    return (piece, 0, len(piece)) if isinstance(piece, str) else piece


def _parts(pieces: Sequence[Piece]) -> Iterator[str]:
    for piece in pieces:
        text, start, stop = _span(piece)
        for at in range(start, stop, CHUNK):
            yield text[at:min(at + CHUNK, stop)]


def _write_atomic(path: Path, text: str | Sequence[Piece], expect: Snapshot | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pieces = [text] if isinstance(text, str) else list(text)
    half = sum(stop - start for _, start, stop in map(_span, pieces)) // 2
    try:
        info = path.stat()
        mode = info.st_mode & 0o7777
    except FileNotFoundError:
        info = None
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    if info is not None and not stat.S_ISREG(info.st_mode):
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a folder")
        # a device or a pipe (`--out /dev/stdout`, a FIFO): written to, never replaced by a file
        with open(path, "wb") as handle:
            for part in _parts(pieces):
                handle.write(part.encode("utf-8"))
        return
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            written, paused = 0, False
            for part in _parts(pieces):
                if not paused and written + len(part) > half:  # halfway, for the crash tests
                    handle.write(part[:half - written].encode("utf-8"))
                    handle.flush()
                    pause_point("tmp-partial")
                    part, written, paused = part[half - written:], half, True
                handle.write(part.encode("utf-8"))
                written += len(part)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        pause_point("tmp-written")
        if expect is not None and snapshot(path) != expect:
            raise Changed(display_path(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    pause_point("renamed")
    try:
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    except OSError:
        pass
    finally:
        os.close(folder)


def unified_diff(old: str, new: str, name: str, exists: bool = True) -> str:
    """A diff `git apply` takes from the blog repository's folder: paths `a/NAME` and `b/NAME`
    relative to it, `/dev/null` for a post that does not exist yet."""
    def lines(text: str) -> list[str]:
        return re.findall(r"[^\n]*\n|[^\n]+\Z", text)

    out = []
    for line in difflib.unified_diff(lines(old), lines(new), f"a/{name}" if exists else "/dev/null", f"b/{name}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
