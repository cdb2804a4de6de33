"""Shared test fixtures: a temporary project folder per test, the real CLI, a local server.

No test touches the network beyond 127.0.0.1, the user's home, or the repository's own
config: every test runs in its own temporary folder with $HOME pointed there.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import settings
from pytest_httpserver import HTTPServer

from trendbot.cli import cli

DATA = Path(__file__).parent / "data"

# On CI (`.ci/run` sets CI=1, as CI services do) the property tests try the same examples on
# every run, so a red CI is the change's doing; elsewhere each run explores new examples.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

FAST_HTTP = {"timeout": "2s", "connect_timeout": "1s", "retries": 1, "backoff": "10ms"}


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def dump_toml(data: dict) -> str:
    """Enough TOML for test configs: scalars first, then one [table] per dict value."""
    lines = [f"{k} = {toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"


class Project:
    """A trendbot folder in tmp: trendbot.toml, sources/, digests/, trendbot.db."""

    def __init__(self, root: Path):
        self.root = root
        # recorded documents are dated in the past: staleness notes only where a test asks for them
        self.settings: dict = {"http": dict(FAST_HTTP), "digest": {"stale_after": "3650d"}}
        (root / "sources").mkdir(exist_ok=True)
        self.write_config()

    def write_config(self, **sections: Any) -> Project:
        for key, value in sections.items():
            if isinstance(value, dict) and isinstance(self.settings.get(key), dict):
                self.settings[key].update(value)
            else:  # a copy: a later update must never change the caller's dict (a module's constant)
                self.settings[key] = copy.deepcopy(value)
        (self.root / "trendbot.toml").write_text(dump_toml(self.settings), encoding="utf-8")
        return self

    def add_source(self, stem: str, /, **keys: Any) -> Path:
        path = self.root / "sources" / f"{stem}.toml"
        path.write_text(dump_toml(keys), encoding="utf-8")
        return path

    @property
    def db_path(self) -> Path:
        return self.root / "trendbot.db"

    def rows(self, sql: str, params: tuple = ()) -> list[dict]:
        conn = sqlite3.connect(self.db_path)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in conn.execute(sql, params)]
        finally:
            conn.close()

    def items(self, source: str) -> list[dict]:
        """The stored items of a source, JSON columns decoded."""
        rows = self.rows("select * from items where source = ?", (source,))
        for row in rows:
            for column in ("popularity", "links", "extra"):
                row[column] = json.loads(row[column])
        return rows


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("TRENDBOT_CONFIG", raising=False)
    return tmp_path


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


@pytest.fixture
def httpserver():
    """A real HTTP server on 127.0.0.1, threaded so one slow answer does not stall the rest.

    Overrides pytest-httpserver's fixture of the same name (which is single-threaded).
    """
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@pytest.fixture
def run():
    """Run the real CLI in-process: run("fetch", "--source", "x") -> click Result."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def jekyll():
    """One Ruby process rendering posts as GitHub Pages does (tests/tools/jekyll.py)."""
    from tools.jekyll import Jekyll, missing, require_or_skip

    require_or_skip(missing())
    renderer = Jekyll()
    yield renderer
    renderer.close()


def read_data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def assert_told_to_wait(run, result, source: str, url: str) -> None:
    """A 429 with Retry-After fails the source naming the URL, and the next fetch leaves it alone."""
    assert result.exit_code == 1, result.output
    assert f"{source} failed: " in result.stderr and f"{url}: HTTP 429" in result.stderr
    assert f"{source}: skipped, server asked to wait until" in run("fetch").stdout


def conditional(name: str, content_type: str, etag: str):
    """A handler serving a recorded document with an ETag, and 304 to a request that sends it back."""
    from werkzeug import Response

    def answer(request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(read_data(name), content_type=content_type, headers={"ETag": etag})

    return answer


def stored(**fields):
    """A stored item as the store hands it to the digest, for testing a kind's labels."""
    from datetime import date

    from trendbot.models import StoredItem

    fields = {"id": "i1", "source": "src", "kind": "feed", "url": "https://example.org/", "title": "t",
              "day": date(2026, 1, 1), **fields}
    return StoredItem(**fields)
