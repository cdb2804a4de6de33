"""Every source kind against every way a server fails: the cycle finishes, the other sources'
items are stored, the failure is reported with the URL and the reason, and the database passes
`PRAGMA integrity_check`. One parametrized test over a real misbehaving loopback server."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import read_data
from faults import FAULTS, FaultServer

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
