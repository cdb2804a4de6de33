"""Every source kind against every way a server fails: the cycle finishes, the other sources'
items are stored, the failure is reported with the URL and the reason, and the database passes
`PRAGMA integrity_check`. One parametrized test over a real misbehaving loopback server.

And every way the person's blog repository fails a publish (a symlinked post, a hook that hangs
or refuses, a lock of theirs, a push the remote rejects, a detached HEAD), on a real repository
with a real bare remote: the exit status is 1, the reason is told, nothing is left staged or
locked by trendbot, nothing leaks into a commit, and nothing reaches the remote."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest
from conftest import read_data
from faults import FAULTS, FaultServer
from test_publish import DAY, fetch, git, make_repo

KINDS = {
    # kind: (faulty prefix, source keys given the server's base URL)
    "feed": ("/bad", lambda base: {"kind": "feed", "url": f"{base}/bad/feed.xml"}),
    "hf_papers": ("/hf", lambda base: {"kind": "hf_papers", "base_url": f"{base}/hf"}),
    "geeknews": ("/gn", lambda base: {"kind": "geeknews", "base_url": f"{base}/gn", "request_interval": "10ms"}),
    "x": ("/nitter", lambda base: {"kind": "x", "accounts": ["karpathy"], "mirrors": [f"{base}/nitter"]}),
    "hf_trending": ("/hub", lambda base: {"kind": "hf_trending", "base_url": f"{base}/hub",
                                           "what": ["models", "spaces"]}),
    "hackernews": ("/algolia", lambda base: {"kind": "hackernews", "base_url": f"{base}/algolia"}),
    "reddit": ("/reddit", lambda base: {"kind": "reddit", "base_url": f"{base}/reddit", "subreddits": ["LocalLLaMA"]}),
    "github_trending": ("/gh", lambda base: {"kind": "github_trending", "base_url": f"{base}/gh"}),
    "bluesky": ("/bsky", lambda base: {"kind": "bluesky", "base_url": f"{base}/bsky", "accounts": ["benoist.dev"]}),
}
REASONS = {
    "500": "HTTP 500", "429": "HTTP 429", "timeout": "timed out", "reset": "connection failed",
    "truncated": "connection failed", "oversize": "cap", "redirect_loop": "too many redirects",
    "drip": "[http] deadline", "slow_headers": "[http] deadline", "gzip_bomb": "cap",
    "huge_retry_after": "HTTP 429",
}
# A hostile document that may still be read: the source may succeed with what it could read.
MAY_SUCCEED = {"non_utf8", "nested", "surrogates", "bad_idna"}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_fault_stays_inside_its_source(project, run, kind, fault):
    prefix, keys = KINDS[kind]
    good = read_data("feeds/simple_atom.xml")
    # the stall outlasts the timeout by far, and the timeout leaves the good source room on a busy machine
    server = FaultServer({"/good.xml": ("application/atom+xml", good)}, fault, prefix,
                         stall=4.0, oversize=60_000)
    try:
        project.write_config(http={"timeout": "1500ms", "deadline": "2s", "retries": 1, "backoff": "10ms",
                                   "max_bytes": 50_000})
        project.add_source("good", kind="feed", url=f"{server.base}/good.xml")
        project.add_source("faulty", **keys(server.base))
        result = run("fetch")
        # whatever was stored renders: no document can stop the day's digest
        digest = run("digest", "--date", "2026-11-20", "--out", "-")
    finally:
        server.close()
    assert digest.exit_code == 0, digest.output
    assert "Traceback" not in digest.output

    states = {row["name"]: row for row in json.loads(run("sources", "--json").stdout)}
    counts = {row["source"]: row["n"] for row in project.rows("select source, count(*) n from items group by source")}
    assert counts.get("good") == 2, result.output
    assert states["good"]["last_error"] is None
    conn = sqlite3.connect(project.db_path)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    conn.close()

    error = states["faulty"]["last_error"]
    if fault in MAY_SUCCEED and error is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1, result.output
    assert error, f"{kind}/{fault}: no error recorded"
    assert server.base + prefix in error, f"the error names no URL: {error}"
    if fault in REASONS:
        assert REASONS[fault] in error, error
    assert "faulty failed" in result.stderr
    assert "Traceback" not in result.output and "unexpected error" not in error


# -- the blog's side: the person's repository misbehaves --------------------------------------

def _symlinked_post(repo, remote):
    git(repo, "config", "http.https://github.com/.extraheader", "AUTHORIZATION: basic ZmFrZQ==")
    (repo / "_posts").mkdir()
    (repo / POST).symlink_to("../.git/config")


def _hanging_hook(repo, remote):
    _hook(repo / ".git" / "hooks" / "pre-commit", "exec sleep 600\n")


def _failing_hook(repo, remote):
    _hook(repo / ".git" / "hooks" / "pre-commit", "echo 'commit refused by policy' >&2; exit 1\n")


def _persons_lock(repo, remote):
    (repo / ".git" / "index.lock").write_text("")


def _failing_push(repo, remote):
    _hook(remote / "hooks" / "pre-receive", "exit 1\n")


def _detached(repo, remote):
    git(repo, "checkout", "-q", "--detach")


def _hook(path, script):
    path.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    path.chmod(0o755)


POST = f"_posts/{DAY}-daily-trends.md"
BLOG_FAULTS = {
    # fault: (what the repository does, what the person is told, where the section is, locks left)
    "symlinked post": (_symlinked_post, "is a symbolic link (to ../.git/config)", "digests", []),
    "hanging hook": (_hanging_hook, "git commit did not finish within 1s", "post", []),
    "failing hook": (_failing_hook, "commit refused by policy", "post", []),
    "lock": (_persons_lock, "index.lock': File exists", "post", ["index.lock"]),
    "failing push": (_failing_push, "not pushed: blog: git push to origin failed: ! [remote rejected]", "post", []),
    "detached HEAD": (_detached, "HEAD is detached", "post", []),
}


@pytest.mark.parametrize("fault", sorted(BLOG_FAULTS))
def test_blog_fault_is_told_and_leaves_the_repository_usable(project, run, httpserver, tmp_path, fault):
    setup, told, where, persons_locks = BLOG_FAULTS[fault]
    repo = make_repo(project.root)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    timeout = "1s" if fault == "hanging hook" else "60s"  # a busy machine's git needs more than 1s at times
    project.write_config(blog={"repo": "blog", "commit": True, "push": True, "git_timeout": timeout})
    fetch(project, run, httpserver)
    setup(repo, remote)
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1, result.output
    assert told in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in (repo / ".git").rglob("*.lock")) == persons_locks
    assert git(repo, "diff", "--cached", "--name-only") == ""
    assert ".extraheader" not in "".join(git(repo, "show", f"{c}:{POST}") for c in
                                         git(repo, "rev-list", "HEAD", "--", POST).split())
    if where == "digests":
        assert (project.root / "digests" / f"{DAY}.md").read_text(encoding="utf-8").startswith("### 데일리 트렌드")
        assert (repo / POST).is_symlink()
    else:
        assert f"trendbot:begin {DAY}" in (repo / POST).read_text(encoding="utf-8")
    assert git(remote, "log", "--format=%s", "main").splitlines() == ["blog"]
    conn = sqlite3.connect(project.db_path)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    conn.close()
