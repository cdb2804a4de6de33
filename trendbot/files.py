"""Reading and writing the person's files: whole, UTF-8, and atomically.

A post is replaced by a temporary file in the same folder, fsynced and renamed over it, so a
reader (Jekyll, an editor, git) sees the old file or the new one, never half of one, and a
killed run leaves nothing but a temporary file the next run removes.

Inside the blog repository a file is reached from the repository's folder one folder at a time
with O_NOFOLLOW, and the temporary file is made and renamed relative to that folder: a symbolic
link (`_posts/x.md -> ../.git/config`, a linked `_posts`) is refused, never read or written
through, even if it is swapped in after trendbot looked.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import hashlib
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from trendbot.config import display_path
from trendbot.errors import PublishError
from trendbot.pause import pause_point

NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY


class NotRegular(PublishError):
    """A path inside the blog repository that trendbot does not follow or write: a symbolic
    link (the file or a folder on its way), or something that is not a regular file."""


@dataclass(frozen=True)
class Snapshot:
    """What a file was when it was read: enough to tell that it changed since."""

    size: int
    mtime_ns: int
    sha256: str


def snapshot(path: Path) -> Snapshot | None:
    """The file's size, time and hash, read without following a link (None when it is not a
    file one can read)."""
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        digest = hashlib.sha256()
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return Snapshot(info.st_size, info.st_mtime_ns, digest.hexdigest())


class Changed(Exception):
    """The file is no longer what was read: someone saved it while trendbot was writing."""


def read_text(path: Path, inside: Path | None = None) -> str:
    """The file's text; `inside` (the blog repository) makes every folder below it and the file
    itself be opened without following a symbolic link, and the file be a regular one."""
    try:
        data = path.read_bytes() if inside is None else _read_inside(inside, path)
    except OSError as exc:
        raise PublishError(f"{display_path(path)}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PublishError(f"{display_path(path)}: not UTF-8 (byte {exc.start}); left as it is") from None


def _read_inside(root: Path, path: Path) -> bytes:
    folder = open_folder(root, path, create=False)
    try:
        fd = _open_nofollow(root, path, folder, os.O_RDONLY | os.O_NONBLOCK)
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(f"{display_path(path)}: not a regular file; trendbot reads and writes only "
                             "regular files inside the blog repository")
        return handle.read()


def open_folder(root: Path, path: Path, create: bool) -> int:
    """A descriptor of `path`'s folder, reached from `root` one folder at a time, none of them
    followed if it is a symbolic link (a link swapped in between a check and the write is not
    followed either); missing folders are made when `create`."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        raise NotRegular(f"{display_path(path)}: outside the blog repository {display_path(root)}") from None
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for index, part in enumerate(parts[:-1]):
            where = root.joinpath(*parts[: index + 1])
            try:
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, dir_fd=fd)
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _refusal(where) from None
                raise
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_nofollow(root: Path, path: Path, folder: int, flags: int, mode: int = 0o600) -> int:
    try:
        return os.open(path.name, flags | NOFOLLOW, mode, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refusal(path) from None
        raise


def _refusal(where: Path) -> NotRegular:
    return NotRegular(f"{display_path(where)}: a symbolic link; trendbot reads and writes only regular files "
                      "inside the blog repository and follows no link")


def remove_stale_temporaries(folder: int, name: str) -> None:
    """Delete the temporary files a killed trendbot left beside `name` in the folder open as
    `folder` (`.NAME.PID.*.tmp` whose process is gone); a live process's file is left to it."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(\d+)\..*\.tmp")
    for leftover in os.listdir(folder):
        match = pattern.fullmatch(leftover)
        if not match or int(match.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover, dir_fd=folder)
        except OSError:
            pass


CHUNK = 1 << 20  # characters encoded at a time
Piece = str | tuple[str, int, int]  # a text, or the span text[start:stop] of one (never copied whole)


def _span(piece: Piece) -> tuple[str, int, int]:
    return (piece, 0, len(piece)) if isinstance(piece, str) else piece


def _parts(pieces: Sequence[Piece]) -> Iterator[str]:
    for piece in pieces:
        text, start, stop = _span(piece)
        for at in range(start, stop, CHUNK):
            yield text[at:min(at + CHUNK, stop)]


def write_atomic(path: Path, text: str | Sequence[Piece], inside: Path | None = None,
                 expect: Snapshot | None = None) -> None:
    """Temporary file in the same folder, fsync, rename: a reader sees the old or the new file.
    A failure (a full disk, a read-only folder) leaves the old file and says which file.
    `inside` (the blog repository): no symbolic link below it is followed, and only a regular
    file is replaced. `text` may be a sequence of pieces (the spans of a large post around the
    block that changed), written a megabyte at a time: nothing holds the new file whole in
    memory. With `expect`, the file must still be what was read right before the rename (an
    editor's save in the meantime raises `Changed`, the file as the person saved it)."""
    try:
        _write_atomic(path, [text] if isinstance(text, str) else list(text), inside, expect)
    except NotRegular:
        raise
    except OSError as exc:
        reason = "no space left on the device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise PublishError(f"{display_path(path)}: not written ({reason}); the file is as it was") from None


def _write_atomic(path: Path, pieces: list[Piece], inside: Path | None, expect: Snapshot | None) -> None:
    if inside is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    else:
        folder = open_folder(inside, path, create=True)
    try:
        try:
            info = os.stat(path.name, dir_fd=folder, follow_symlinks=inside is None)
            mode = info.st_mode & 0o7777
        except FileNotFoundError:
            info = None
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        if info is not None and not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(errno.EISDIR, "it is a folder")
            if inside is not None:
                raise _refusal(path) if stat.S_ISLNK(info.st_mode) else NotRegular(
                    f"{display_path(path)}: not a regular file; trendbot reads and writes only regular files "
                    "inside the blog repository")
            # a device or a pipe (`--out /dev/stdout`, a FIFO): written to, never replaced by a file
            with open(path, "wb") as handle:
                for part in _parts(pieces):
                    handle.write(part.encode("utf-8"))
            return
        _replace(folder, path, pieces, mode, expect)
    finally:
        os.close(folder)


def _replace(folder: int, path: Path, pieces: list[Piece], mode: int, expect: Snapshot | None) -> None:
    remove_stale_temporaries(folder, path.name)
    while True:
        tmp = f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o600, dir_fd=folder)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            half = sum(stop - start for _, start, stop in map(_span, pieces)) // 2
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
            os.fchmod(handle.fileno(), mode)
        pause_point("tmp-written")
        if expect is not None and snapshot(path) != expect:
            raise Changed(display_path(path))
        os.rename(tmp, path.name, src_dir_fd=folder, dst_dir_fd=folder)  # replaces a link, never follows it
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=folder)
        raise
    pause_point("renamed")
    with contextlib.suppress(OSError):
        os.fsync(folder)


def unified_diff(old: str, new: str, name: str, exists: bool = True) -> str:
    """A diff `git apply` takes from the blog repository's folder: paths `a/NAME` and `b/NAME`
    relative to it, `/dev/null` for a post that does not exist yet."""
    def lines(text: str) -> list[str]:
        return re.findall(r"[^\n]*\n|[^\n]+\Z", text)

    out = []
    for line in difflib.unified_diff(lines(old), lines(new), f"a/{name}" if exists else "/dev/null", f"b/{name}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
