"""The person's git: trendbot commits its own change to a post, and nothing of the person's.

The blog repository is the person's, with their hooks, their GPG signing, their merges in
progress and their own git running beside trendbot's. So every call is one `git -C REPO ...`
in a process group of its own: after `[blog] git_timeout` (a pre-commit hook or a pinentry that
waits for ever) the whole group gets SIGTERM, then SIGKILL, and a lock file that this git left
(`index.lock`, `next-index-PID.lock`, a ref's lock) is removed. A lock that existed before the
call is the person's and stays. A failure is a `PublishError` naming the repository and git's
own words.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from trendbot.config import display_path
from trendbot.errors import PublishError
from trendbot.timeutil import format_duration

GRACE = 5.0              # seconds between SIGTERM and SIGKILL of a stopped git's group (at most)
IN_PROGRESS = {          # what the person is in the middle of, by the file git keeps for it
    "MERGE_HEAD": "a merge", "rebase-merge": "a rebase", "rebase-apply": "a rebase (or git am)",
    "CHERRY_PICK_HEAD": "a cherry-pick", "REVERT_HEAD": "a revert",
}


@dataclass
class Done:
    returncode: int
    stdout: bytes
    stderr: bytes


class Stopped(Exception):
    """The command ran longer than its timeout and was stopped."""


def run_group(argv: list[str], timeout: float, *, input: bytes | None = None,
              env: dict[str, str] | None = None) -> Done:
    """Run `argv` as the leader of a new process group (a new session: no terminal to prompt
    on) and wait at most `timeout` seconds; then stop the whole group and raise `Stopped`."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_group(proc, min(GRACE, timeout))
        raise Stopped() from None
    except BaseException:
        stop_group(proc, min(GRACE, timeout))
        raise
    return Done(proc.returncode, out, err)


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM to the process group (git and a hook's children: git removes its own locks on
    SIGTERM), up to `grace` seconds for all of them to go, then SIGKILL to what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        _signal_group(proc.pid, sig)
        if _wait_group_gone(proc, grace):
            break
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream is not None:
            stream.close()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_group_gone(proc: subprocess.Popen, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        proc.poll()  # reap git itself, else its zombie keeps the group alive
        if proc.returncode is not None and not group_alive(proc.pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_files(git_dir: Path) -> dict[Path, tuple[int, int]]:
    """Every lock file git may hold in the repository: `*.lock` in the git folder (index.lock,
    next-index-PID.lock, HEAD.lock, config.lock) and a ref's lock under refs/; by inode and mtime."""
    found: dict[Path, tuple[int, int]] = {}
    for path in [*git_dir.glob("*.lock"), *(git_dir / "refs").rglob("*.lock")]:
        try:
            info = path.lstat()
        except OSError:
            continue
        found[path] = (info.st_ino, info.st_mtime_ns)
    return found


COARSE_CLOCK_NS = 1_000_000_000  # file times are stamped from a clock that lags time.time_ns()


def remove_new_locks(before: dict[Path, tuple[int, int]], git_dir: Path, since_ns: int) -> list[Path]:
    """Remove the locks a stopped git left: those that were not there before it started (the
    same path with another inode is a new file) and were made after it started (by the file
    system's clock, which is coarse: it may lag the process's clock by a tick)."""
    removed = []
    for path, (inode, mtime) in lock_files(git_dir).items():
        if before.get(path, (None,))[0] == inode or mtime < since_ns - COARSE_CLOCK_NS:
            continue
        try:
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


class Git:
    """git in one blog repository, each command stopped after `timeout`."""

    def __init__(self, repo: Path, timeout: timedelta):
        self.repo = repo
        self.timeout = timeout
        self.shown = display_path(repo)
        self._git_dir: Path | None = None

    def run(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> Done:
        git_dir = self._git_dir
        before = lock_files(git_dir) if git_dir else {}
        started = time.time_ns()
        try:
            return run_group(["git", "-C", str(self.repo), *args], self.timeout.total_seconds(), input=input, env=env)
        except OSError as exc:
            raise PublishError(f"{self.shown}: git {args[0]} failed: {exc}") from None
        except BaseException as exc:  # stopped: at its timeout, or trendbot itself is stopped (SIGTERM)
            if git_dir:
                remove_new_locks(before, git_dir, started)
            if isinstance(exc, Stopped):
                raise PublishError(f"{self.shown}: git {args[0]} did not finish within "
                                   f"{format_duration(self.timeout)} ([blog] git_timeout; a hook or GPG signing "
                                   "waiting?), so trendbot stopped it") from None
            raise

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = self.run(*args, env=env)
        if done.returncode != 0:
            raise PublishError(f"{self.shown}: git {args[0]} failed: {reason(done)}")
        return done.stdout.decode("utf-8", "replace")

    def git_dir(self) -> Path | None:
        """The repository's git folder, or None when the blog folder is in no git repository."""
        if self._git_dir is None:
            done = self.run("rev-parse", "--absolute-git-dir")
            if done.returncode == 0:
                self._git_dir = Path(done.stdout.decode("utf-8", "surrogateescape").strip())
        return self._git_dir

    def branch(self) -> str | None:
        """The checked-out branch, None on a detached HEAD."""
        done = self.run("symbolic-ref", "-q", "--short", "HEAD")
        return done.stdout.decode("utf-8", "replace").strip() or None if done.returncode == 0 else None

    def in_progress(self) -> str | None:
        """What the person is in the middle of (a merge, a rebase, a cherry-pick), or None."""
        git_dir = self.git_dir()
        for name, what in IN_PROGRESS.items():
            if git_dir and (git_dir / name).exists():
                return what
        return None

    def versions(self, relative: str) -> tuple[bytes | None, bytes | None]:
        """The file as committed in HEAD and as staged in the index, each as a checkout would
        write it (end-of-line conversion and smudge filters applied); None where it is not."""
        found = []
        for spec in (f"HEAD:./{relative}", f":./{relative}"):
            done = self.run("cat-file", "--filters", spec)
            found.append(done.stdout if done.returncode == 0 else None)
        return found[0], found[1]

    def commit(self, relative: str, message: str) -> str:
        """Commit this file alone (the person's other staged work stays staged), with the
        person's hooks and signing; on a failure nothing of it stays staged. Its short id."""
        self("add", "--", relative)
        try:
            self("commit", "--quiet", "--only", "-m", message, "--", relative)
        except PublishError:
            self.unstage(relative)
            raise
        return self("rev-parse", "--short", "HEAD").strip()

    def unstage(self, relative: str) -> None:
        has_head = self.run("rev-parse", "-q", "--verify", "HEAD").returncode == 0
        try:
            if has_head:
                self("reset", "-q", "--", relative)
            else:
                self("rm", "--cached", "-q", "--", relative)
        except PublishError:
            pass

    def push(self, branch: str) -> str:
        """Push HEAD to the branch's upstream; where it went ("origin/main")."""
        remote = self.run("config", f"branch.{branch}.remote").stdout.decode("utf-8", "replace").strip()
        merge = self.run("config", f"branch.{branch}.merge").stdout.decode("utf-8", "replace").strip()
        if not remote or not merge:
            raise PublishError(f"{self.shown}: git push failed: the branch {branch} has no upstream "
                               f"(set one with `git push -u REMOTE {branch}`)")
        env = dict(os.environ, GIT_TERMINAL_PROMPT="0")  # never wait for a password nobody types
        done = self.run("push", "--quiet", remote, f"HEAD:{merge}", env=env)
        if done.returncode != 0:
            raise PublishError(f"{self.shown}: git push to {remote} failed: {reason(done)}")
        return f"{remote}/{merge.removeprefix('refs/heads/')}"


def reason(done: Done) -> str:
    """git's words for a failure: a push's ` ! [rejected] ...` line with what the remote said,
    else its `fatal:` line (the advice after it is not the reason), else its last line (a
    hook's own words)."""
    lines = [line.strip() for line in (done.stderr or done.stdout).decode("utf-8", "replace").splitlines()
             if line.strip()]
    if rejected := [line for line in lines if line.startswith("! ")]:
        remote = [line.removeprefix("remote:").strip() for line in lines if line.startswith("remote:")]
        return rejected[0] + (f" (the remote said: {'; '.join(remote)[:300]})" if remote else "")
    if fatal := [line for line in lines if line.startswith("fatal: ")]:
        return fatal[0].removeprefix("fatal: ")
    return lines[-1] if lines else f"exit status {done.returncode}"
