"""The structure holds: layers without cycles, kinds as plugins, `--dry-run` that touches
nothing, one schedule for the daemon and `trendbot sources`."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from werkzeug import Request, Response

from conftest import read_data
from trendbot.daemon import Daemon
from trendbot.jobs import load

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = Path(__file__).parent / "plugin"
DAY = "2026-06-12"


def trendbot(project, *args: str, plugin: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, TRENDBOT_CONFIG=str(project.root / "trendbot.toml"))
    if plugin:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGIN), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "trendbot", *args], cwd=project.root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_import_layers_and_kind_independence_hold():
    linter = shutil.which("lint-imports")
    if linter is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    done = subprocess.run([linter], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout and done.stdout.count("KEPT") >= 4


def serve_papers(project, httpserver) -> None:
    papers = read_data(f"hf/api_{DAY}.json")
    httpserver.expect_request("/hf/api/daily_papers").respond_with_data(papers, content_type="application/json")
    board = json.loads(papers)[:3]
    for n, entry in enumerate(board):
        entry["paper"]["upvotes"] = 10 * (n + 1)
    httpserver.expect_request("/board/board.json").respond_with_data(json.dumps(board), content_type="application/json")
    project.add_source("huggingface", kind="hf_papers", base_url=httpserver.url_for("/hf"), days=1)
    project.add_source("board", kind="paper_board", base_url=httpserver.url_for("/board"))


def test_a_kind_from_another_package_fetches_merges_ranks_and_renders(project, httpserver):
    """The kind in tests/plugin is one module plus one entry-point line, installed nowhere in
    trendbot: it is found through the `trendbot.kinds` entry points like the built-in kinds."""
    serve_papers(project, httpserver)
    fetched = trendbot(project, "fetch", "--date", DAY, plugin=True)
    assert fetched.returncode == 0, fetched.stderr
    assert "board: 3 items (3 new, 0 updated)" in fetched.stdout
    section = trendbot(project, "digest", "--date", DAY, "--out", "-", plugin=True).stdout
    lines = [line for line in section.splitlines() if line.startswith("- ")]
    board_lines = [line for line in lines if "board.example.org" in line]
    assert len(board_lines) == 3  # each joined its paper's story, led by the board (the kind's `lead`)
    top = board_lines[0]
    assert top.startswith("- [") and "(https://board.example.org/p/2606.13594)" in top
    assert " · Board 30v · [HF](https://huggingface.co/papers/2606.13594)" in top
    assert sum("2606.13594" in line for line in lines) == 1
    kinds = {row["name"]: row["kind"] for row in json.loads(trendbot(project, "sources", "--json", plugin=True).stdout)}
    assert kinds == {"board": "paper_board", "huggingface": "hf_papers"}


def test_without_the_plugin_its_source_is_a_clear_configuration_error(project, httpserver):
    serve_papers(project, httpserver)
    result = trendbot(project, "fetch")
    assert result.returncode == 2
    assert 'sources/board.toml: kind: "paper_board" is not a known kind (use ' in result.stderr


def database_contents(path: Path) -> dict[str, list]:
    conn = sqlite3.connect(path)
    try:
        tables = [name for (name,) in conn.execute("select name from sqlite_master where type = 'table' "
                                                   "and name not like 'items_fts%' order by name")]
        return {table: sorted(map(repr, conn.execute(f"select * from [{table}]"))) for table in tables}
    finally:
        conn.close()


def test_a_dry_run_publish_writes_nothing_and_asks_no_model(project, run, httpserver):
    asked: list[str] = []

    def model(request: Request) -> Response:
        asked.append(request.path)
        return Response(json.dumps({"choices": [{"message": {"content": "요약 문장이 여기에 있음."}}]}),
                        content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(model)
    httpserver.expect_request("/hf/api/daily_papers").respond_with_data(read_data(f"hf/api_{DAY}.json"),
                                                                        content_type="application/json")
    project.add_source("huggingface", kind="hf_papers", base_url=httpserver.url_for("/hf"), days=1)
    (project.root / "blog").mkdir()
    project.write_config(blog={"repo": "blog"},
                         summarizer={"kind": "openai", "base_url": httpserver.url_for("/v1"), "timeout": "2s"})
    assert run("fetch", "--date", DAY).exit_code == 0
    # items stored but not merged yet: a real digest writes story rows and summaries
    with sqlite3.connect(project.db_path) as conn:
        conn.execute("delete from story_items")
        conn.execute("delete from item_keys")
    before = database_contents(project.db_path)
    result = run("digest", "--date", DAY, "--publish", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "+<!-- trendbot:begin 2026-06-12" in result.stdout and "would create" in result.stderr
    assert asked == []
    assert database_contents(project.db_path) == before
    assert list((project.root / "blog").iterdir()) == []
    assert not (project.root / "digests" / f"{DAY}.md").exists()
    # and the real run does write them
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    assert asked and database_contents(project.db_path) != before


def test_sources_and_the_daemon_agree_on_every_next_run(project, run, httpserver):
    httpserver.expect_request("/lab.xml").respond_with_data(read_data("feeds/simple_atom.xml"),
                                                             content_type="application/atom+xml")
    httpserver.expect_request("/down.xml").respond_with_data("slow down", status=429, headers={"Retry-After": "5400"})
    project.add_source("lab", kind="feed", url=httpserver.url_for("/lab.xml"), every="2h")
    project.add_source("down", kind="feed", url=httpserver.url_for("/down.xml"), every="30m")
    project.add_source("never", kind="feed", url=httpserver.url_for("/never.xml"), every="1h", enabled=False)
    assert run("fetch", "--source", "lab", "--source", "down").exit_code == 1
    shown = {row["name"]: row["next_run"] for row in json.loads(run("sources", "--json").stdout)}
    project.write_config(schedule={"jitter": "0s"})
    config = load()
    now = datetime.now(timezone.utc)
    from trendbot.store import Store

    with Store(config.db_path) as store:
        scheduler = Daemon(config).build_scheduler(now, store.states(), catch_up=False)
    planned = {job.id.split(":", 1)[1]: job.next_run_time for job in scheduler.get_jobs() if job.id.startswith("fetch:")}
    assert set(planned) == {"lab", "down"}
    for name, when in planned.items():
        assert datetime.fromisoformat(shown[name]) == when, name
    assert datetime.fromisoformat(shown["down"]) - datetime.fromisoformat(shown["lab"]) < timedelta(0)
    assert shown["never"] is None


def test_the_store_knows_how_many_migrations_there_are(project):
    """`Store` skips loading the migrations when `PRAGMA user_version` says the schema is whole:
    that number must be the migrations' count, and an everyday command must not load them."""
    from trendbot import migrations
    from trendbot.store import SCHEMA_VERSION, Store

    assert SCHEMA_VERSION == len(migrations.migrations._migrations)
    with Store(project.db_path) as store:
        assert store.db.execute("pragma user_version").fetchone()[0] == SCHEMA_VERSION
    code = ("import sys; from trendbot.store import Store; Store(sys.argv[1]).close(); "
            "print('sqlite_utils' in sys.modules, 'trendbot.migrations' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(project.db_path)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})  # this checkout's code
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_a_command_loads_only_the_kinds_its_sources_use(project, tmp_path):
    project.add_source("papers", kind="feed", url="http://127.0.0.1:9/feed.xml")
    script = ("import sys; from trendbot.cli import main; sys.argv = ['trendbot', 'sources']\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in sys.modules if m.startswith('trendbot.kinds.')), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", script], cwd=project.root, capture_output=True, text=True,
                          env=dict(os.environ, TRENDBOT_CONFIG=str(project.root / "trendbot.toml")), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "['trendbot.kinds.feed']", done.stderr


def test_a_new_database_does_not_load_numpy_for_sqlite_utils(tmp_path):
    # sqlite-utils imports numpy (and pandas) when installed; trendbot stores neither's values
    pytest.importorskip("numpy")
    script = ("import sys; from trendbot.store import Store; Store(sys.argv[1]).close()\n"
              "print('numpy' in sys.modules, 'sqlite_utils' in sys.modules)\n"
              "import numpy  # still importable afterwards\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "new.db")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
