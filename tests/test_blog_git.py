"""The person's git, for real: hooks that hang or fail, a lock of theirs, no `user.name`, a merge
in progress, a detached HEAD, and `push = true` into a local bare remote.

Each case runs the real CLI against a real repository with real hooks (shell scripts in
.git/hooks). A commit that failed is trendbot's to make later: the next publish commits it,
never says "already up to date" over it, and never calls it the person's change. A hanging hook
is stopped after the configured `[blog] git_timeout` (a short one here), and the test waits for
states (the lock gone, the hook's processes gone), not for a time.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from test_publish import DAY, WEEKLY_POST, commits, fetch, git, make_repo, weekly_blog

POST = f"_posts/{DAY}-daily-trends.md"
SUBJECT = f"trendbot: {DAY} 데일리 트렌드"
NEXT_DAY = "2026-09-30"


def daily_blog(project, run, httpserver, **blog) -> Path:
    repo = make_repo(project.root)
    project.write_config(blog={"repo": "blog", "commit": True, **blog})
    fetch(project, run, httpserver)
    return repo


def hook(repo: Path, name: str, script: str) -> Path:
    path = repo / ".git" / "hooks" / name
    path.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    path.chmod(0o755)
    return path


def staged(repo: Path) -> list[str]:
    return git(repo, "diff", "--cached", "--name-only").split()


def locks(repo: Path) -> list[str]:
    git_dir = repo / ".git"
    return sorted(str(p.relative_to(git_dir)) for p in [*git_dir.glob("*.lock"), *(git_dir / "refs").rglob("*.lock")])


def gone(pid: int) -> bool:
    """The process no longer runs (gone, or a zombie nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_until(condition, what: str) -> None:
    """Wait for a state, however long the machine takes (the bound only turns a hang into a failure)."""
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


# -- a hook or a signing that hangs ------------------------------------------------------------

HANGING = {
    # the hook and its child end on SIGTERM
    "sleeps": 'echo $$ > "$PIDS"; sleep 600 & echo $! >> "$PIDS"; wait\n',
    # the hook ignores SIGTERM, and so does its child: only SIGKILL of the group stops them
    "ignores SIGTERM": 'trap "" TERM; echo $$ > "$PIDS"; sleep 600 & echo $! >> "$PIDS"; wait; wait\n',
}


@pytest.mark.parametrize("behaviour", sorted(HANGING))
def test_a_hanging_pre_commit_hook_is_stopped_whole_and_leaves_no_lock(project, run, httpserver, tmp_path,
                                                                      monkeypatch, behaviour):
    repo = daily_blog(project, run, httpserver, git_timeout="2s")
    pids = tmp_path / "hook-pids"
    monkeypatch.setenv("PIDS", str(pids))
    hook(repo, "pre-commit", HANGING[behaviour])
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1, result.output
    assert "git commit did not finish within 2s ([blog] git_timeout" in result.stderr
    assert "so trendbot stopped it" in result.stderr
    hook_pids = [int(line) for line in pids.read_text().split()]
    assert len(hook_pids) == 2
    wait_until(lambda: all(gone(pid) for pid in hook_pids), "the hook and its child gone")
    wait_until(lambda: locks(repo) == [], "no lock left")
    assert staged(repo) == []
    assert commits(repo) == ["blog"]
    assert "trendbot:begin 2026-09-29" in (repo / POST).read_text(encoding="utf-8")  # written, not committed
    # the person's own git works at once, and trendbot commits its write once the hook is fixed
    (repo / ".git" / "hooks" / "pre-commit").unlink()
    again = run("digest", "--date", DAY, "--publish")
    assert again.exit_code == 0, again.output
    assert "already up to date; committed" in again.stderr
    assert commits(repo) == [SUBJECT, "blog"]
    assert git(repo, "status", "--porcelain") == ""


def test_gpg_signing_that_hangs_is_stopped(project, run, httpserver, tmp_path, monkeypatch):
    repo = daily_blog(project, run, httpserver, git_timeout="2s")
    pids = tmp_path / "gpg-pids"
    monkeypatch.setenv("PIDS", str(pids))
    gpg = tmp_path / "fake-gpg"  # a pinentry nobody answers
    gpg.write_text('#!/bin/sh\necho $$ > "$PIDS"\nexec sleep 600\n', encoding="utf-8")
    gpg.chmod(0o755)
    git(repo, "config", "commit.gpgsign", "true")
    git(repo, "config", "gpg.program", str(gpg))
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1, result.output
    assert "git commit did not finish within 2s" in result.stderr
    pid = int(pids.read_text())
    wait_until(lambda: gone(pid), "the signing program gone")
    wait_until(lambda: locks(repo) == [], "no lock left")
    assert staged(repo) == [] and commits(repo) == ["blog"]


def test_a_lock_left_by_a_killed_git_of_trendbots_is_removed_one_of_the_persons_is_not(tmp_path):
    """The lock removal itself, for a git that SIGTERM could not make clean up (SIGKILLed): a real
    process makes `index.lock`, `next-index-PID.lock` and a ref's lock, then is killed."""
    from trendbot.gitops import lock_files, remove_new_locks

    git_dir = tmp_path / ".git"
    (git_dir / "refs" / "heads").mkdir(parents=True)
    persons = git_dir / "config.lock"
    persons.write_text("the person's\n")
    before = lock_files(git_dir)
    started = time.time_ns()
    script = f"touch {git_dir}/index.lock {git_dir}/next-index-$$.lock {git_dir}/refs/heads/main.lock; kill -KILL $$"
    done = subprocess.run(["sh", "-c", script], check=False)
    assert done.returncode == -9
    assert len(list(git_dir.rglob("*.lock"))) == 4
    removed = remove_new_locks(before, git_dir, started)
    assert sorted(p.name for p in removed)[:2] == ["index.lock", "main.lock"] and len(removed) == 3
    assert [p.name for p in git_dir.rglob("*.lock")] == ["config.lock"]
    assert persons.read_text() == "the person's\n"


# -- failed commits are trendbot's to make later ------------------------------------------------

def test_a_lock_of_the_persons_is_left_and_the_write_committed_once_it_is_gone(project, run, httpserver):
    repo = daily_blog(project, run, httpserver)
    lock = repo / ".git" / "index.lock"
    lock.write_text("")  # the person's git, running (or crashed)
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1, result.output
    assert "not committed:" in result.stderr and "index.lock" in result.stderr
    assert lock.exists()  # theirs: never removed
    assert commits(repo) == ["blog"]
    lock.unlink()
    again = run("digest", "--date", DAY, "--publish")
    assert again.exit_code == 0, again.output
    assert "already up to date; committed" in again.stderr
    assert "changes of yours" not in again.stderr
    assert commits(repo) == [SUBJECT, "blog"]
    assert git(repo, "status", "--porcelain") == ""


def test_a_failing_hook_leaves_nothing_staged_and_the_next_change_is_not_blamed_on_the_person(
        project, run, httpserver):
    repo = daily_blog(project, run, httpserver)
    (repo / "draft.md").write_text("half-written\n", encoding="utf-8")
    git(repo, "add", "draft.md")  # the person's staged work stays staged, and stays theirs
    hook(repo, "pre-commit", 'echo "lint: trailing whitespace in _posts" >&2; exit 1\n')
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1, result.output
    assert "not committed:" in result.stderr and "git commit failed" in result.stderr
    assert staged(repo) == ["draft.md"]
    assert commits(repo) == ["blog"]
    (repo / ".git" / "hooks" / "pre-commit").unlink()
    fetch(project, run, httpserver, "gn_atom_2026-09-29_later.xml")  # the section changes
    again = run("digest", "--date", DAY, "--publish")
    assert again.exit_code == 0, again.output
    assert "changes of yours" not in again.stderr
    assert again.stderr.strip().endswith(f"committed {git(repo, 'rev-parse', '--short', 'HEAD').strip()}")
    assert commits(repo) == [SUBJECT, "blog"]
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [POST]
    assert staged(repo) == ["draft.md"]


def test_no_user_name_then_a_name_commits_the_write(project, run, httpserver):
    repo = daily_blog(project, run, httpserver)
    git(repo, "config", "--unset", "user.name")
    git(repo, "config", "--unset", "user.email")
    git(repo, "config", "user.useConfigOnly", "true")
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1, result.output
    assert "not committed:" in result.stderr
    assert staged(repo) == [] and commits(repo) == ["blog"]
    git(repo, "config", "user.name", "Blog Owner")
    git(repo, "config", "user.email", "owner@example.com")
    again = run("digest", "--date", DAY, "--publish")
    assert again.exit_code == 0, again.output
    assert commits(repo) == [SUBJECT, "blog"]


def test_a_weekly_post_with_an_uncommitted_day_of_trendbots_commits_both_days_next(project, run, httpserver):
    """Day one's commit failed; day two's publish finds day one's block uncommitted: trendbot's
    (a heading it created and a block that hashes to its marker), so both are committed."""
    post = weekly_blog(project, run, httpserver, commit=True)
    repo = post.parents[1]
    hook(repo, "pre-commit", "exit 1\n")
    assert run("digest", "--date", DAY, "--publish").exit_code == 1
    (repo / ".git" / "hooks" / "pre-commit").unlink()
    fetch(project, run, httpserver, "gn_atom_2026-09-30.xml")
    result = run("digest", "--date", NEXT_DAY, "--publish")
    assert result.exit_code == 0, result.output
    assert "changes of yours" not in result.stderr and ", committed " in result.stderr
    assert commits(repo) == [f"trendbot: {NEXT_DAY} 데일리 트렌드", "blog"]
    committed = git(repo, "show", f"HEAD:{WEEKLY_POST}")
    assert f"trendbot:begin {DAY}" in committed and f"trendbot:begin {NEXT_DAY}" in committed
    assert git(repo, "status", "--porcelain") == ""


def test_a_crlf_checkout_of_an_lf_repository_is_recognised_as_trendbots(project, run, httpserver):
    """`core.autocrlf = true`: HEAD holds LF, the post on disk CRLF; trendbot's uncommitted
    write is compared with HEAD as a checkout writes it."""
    repo = make_repo(project.root, {POST: b"---\nlayout: post\n---\n\nmy day\n"})
    git(repo, "config", "core.autocrlf", "true")
    (repo / POST).unlink()
    git(repo, "checkout", "--", POST)
    assert b"\r\n" in (repo / POST).read_bytes()
    project.write_config(blog={"repo": "blog", "commit": True})
    fetch(project, run, httpserver)
    hook(repo, "pre-commit", "exit 1\n")
    assert run("digest", "--date", DAY, "--publish").exit_code == 1
    (repo / ".git" / "hooks" / "pre-commit").unlink()
    again = run("digest", "--date", DAY, "--publish")
    assert again.exit_code == 0, again.output
    assert "already up to date; committed" in again.stderr
    assert commits(repo) == [SUBJECT, "blog"]


def a_commit_that_failed(project, run, httpserver) -> Path:
    """A daily blog whose first publish was written but not committed (a hook that failed, fixed since)."""
    repo = daily_blog(project, run, httpserver)
    hook(repo, "pre-commit", "exit 1\n")
    assert run("digest", "--date", DAY, "--publish").exit_code == 1
    (repo / ".git" / "hooks" / "pre-commit").unlink()
    return repo


def test_the_persons_edit_beside_trendbots_uncommitted_write_is_still_theirs(project, run, httpserver):
    repo = a_commit_that_failed(project, run, httpserver)
    post = repo / POST
    post.write_text(post.read_text(encoding="utf-8") + "\n오늘의 메모\n", encoding="utf-8")
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 0, result.output
    assert "not committed: the post has changes of yours" in result.stderr
    assert commits(repo) == ["blog"]


def test_an_edit_inside_trendbots_uncommitted_block_is_the_persons(project, run, httpserver):
    repo = a_commit_that_failed(project, run, httpserver)
    post = repo / POST
    text = post.read_text(encoding="utf-8")
    first = text.index("\n- [") + 1
    post.write_text(text[:first] + "- 내가 고른 링크\n" + text[first:], encoding="utf-8")
    fetch(project, run, httpserver, "gn_atom_2026-09-29_later.xml")
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 0, result.output
    assert "내가 고른 링크" in post.read_text(encoding="utf-8")
    assert "not committed: the post has changes of yours" in result.stderr
    assert commits(repo) == ["blog"]


def test_mid_merge_trendbot_stages_nothing_and_commits_after_the_merge(project, run, httpserver):
    repo = daily_blog(project, run, httpserver)
    git(repo, "checkout", "-q", "-b", "theme")
    (repo / "_config.yml").write_text("title: their theme\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "theme")
    git(repo, "checkout", "-q", "main")
    (repo / "_config.yml").write_text("title: my blog, renamed\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "rename")
    merge = subprocess.run(["git", "-C", str(repo), "merge", "theme"], capture_output=True, text=True, check=False)
    assert merge.returncode == 1 and (repo / ".git" / "MERGE_HEAD").exists()
    index_before = git(repo, "ls-files", "-s")
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 0, result.output
    assert "not committed: a merge is in progress in blog" in result.stderr
    assert git(repo, "ls-files", "-s") == index_before  # nothing staged into their merge
    assert (repo / ".git" / "MERGE_HEAD").exists()
    (repo / "_config.yml").write_text("title: my blog, their theme\n", encoding="utf-8")
    git(repo, "add", "_config.yml")
    git(repo, "commit", "-q", "--no-edit")
    assert POST not in git(repo, "show", "--name-only", "--format=", "HEAD").split()
    again = run("digest", "--date", DAY, "--publish")
    assert again.exit_code == 0, again.output
    assert commits(repo)[0] == SUBJECT
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [POST]


def test_a_detached_head_is_refused(project, run, httpserver):
    repo = daily_blog(project, run, httpserver)
    git(repo, "checkout", "-q", "--detach")
    head = git(repo, "rev-parse", "HEAD")
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1, result.output
    assert "not committed: HEAD is detached in blog" in result.stderr
    assert git(repo, "rev-parse", "HEAD") == head
    assert staged(repo) == []
    assert "trendbot:begin 2026-09-29" in (repo / POST).read_text(encoding="utf-8")


def test_a_folder_that_is_no_git_repository_with_commit_says_so(project, run, httpserver):
    blog = project.root / "blog"
    blog.mkdir()
    project.write_config(blog={"repo": "blog", "commit": True})
    fetch(project, run, httpserver)
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1, result.output
    assert "not committed: blog is not a git repository" in result.stderr
    assert (blog / POST).exists()


# -- push ---------------------------------------------------------------------------------------

def with_remote(repo: Path, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    return remote


def test_push_sends_the_commit_to_the_upstream(project, run, httpserver, tmp_path):
    repo = daily_blog(project, run, httpserver, push=True)
    remote = with_remote(repo, tmp_path)
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().endswith(", pushed to origin/main")
    assert git(remote, "log", "--format=%s", "main").splitlines() == [SUBJECT, "blog"]
    assert git(remote, "rev-parse", "main") == git(repo, "rev-parse", "HEAD")


def test_a_rejected_push_keeps_the_commit_and_fails(project, run, httpserver, tmp_path):
    repo = daily_blog(project, run, httpserver, push=True)
    remote = with_remote(repo, tmp_path)
    receive = remote / "hooks" / "pre-receive"
    receive.write_text('#!/bin/sh\necho "protected branch: pull requests only" >&2\nexit 1\n', encoding="utf-8")
    receive.chmod(0o755)
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1, result.output
    assert "not pushed:" in result.stderr and "pre-receive hook declined" in result.stderr
    assert "(the remote said: protected branch: pull requests only)" in result.stderr
    assert "(the commit is kept in blog)" in result.stderr
    assert commits(repo) == [SUBJECT, "blog"]
    assert git(remote, "log", "--format=%s", "main").splitlines() == ["blog"]


def test_push_without_an_upstream_says_so(project, run, httpserver):
    repo = daily_blog(project, run, httpserver, push=True)
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1, result.output
    assert "not pushed:" in result.stderr and "the branch main has no upstream" in result.stderr
    assert commits(repo) == [SUBJECT, "blog"]


def test_git_timeout_is_a_checked_duration(project, run):
    project.write_config(blog={"repo": "blog", "git_timeout": "1ms", "push": True})
    result = run("digest", "--date", DAY, "--out", "-")
    assert result.exit_code == 2
    assert "git_timeout" in result.output and '"1ms" is out of range (100ms to 1h)' in result.output


def test_an_unchanged_section_beside_the_persons_uncommitted_edit_says_nothing_of_a_commit(project, run, httpserver):
    """Trendbot's block is committed; only the person's line is not: nothing of trendbot's to commit."""
    repo = daily_blog(project, run, httpserver)
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    post = repo / POST
    post.write_text(post.read_text(encoding="utf-8") + "\n오늘의 메모\n", encoding="utf-8")
    again = run("digest", "--date", DAY, "--publish")
    assert again.exit_code == 0, again.output
    assert again.stderr.strip().endswith("the 2026-09-29 section is already up to date")
    assert commits(repo) == [SUBJECT, "blog"]
    assert git(repo, "status", "--porcelain") == f" M {POST}\n"
