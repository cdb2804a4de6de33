"""The person's git: trendbot commits its own change to a post, and nothing of the person's.

Every call is one `git -C REPO ...` subprocess; a failure is a `PublishError` naming the repository
and git's own last line.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from trendbot.config import display_path
from trendbot.errors import PublishError


def git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PublishError(f"{display_path(repo)}: git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise PublishError(f"{display_path(repo)}: git {args[0]} failed: {reason[-1] if reason else done.returncode}")
    return done.stdout


def git_changes(repo: Path, post: Path) -> str:
    """What git says of the post that is not committed ("" when it is as committed, or when the
    folder is no git repository)."""
    try:
        return git(repo, "status", "--porcelain", "--", os.path.relpath(post, repo)).strip()
    except PublishError:
        return ""


def commit_post(repo: Path, post: Path, message: str) -> str | None:
    """Commit the post alone (the person's other staged work stays staged); its id, or None
    when git sees no change in the post."""
    relative = os.path.relpath(post, repo)
    if not git_changes(repo, post):
        return None
    git(repo, "add", "--", relative)
    git(repo, "commit", "--quiet", "-m", message, "--", relative)
    return git(repo, "rev-parse", "--short", "HEAD").strip()
