"""A hostile world: no server, document, configuration or disk can hang trendbot, blow its
memory, or stop the day's digest with a traceback. Each case runs the real CLI against a real
local server or a real file, and checks what the person running it from cron would see."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from werkzeug import Request, Response

from conftest import read_data
from faults import FaultServer, nested_markup

DAY = "2026-11-20"
LAB_FEED = read_data("feeds/simple_atom.xml")  # two entries on 2026-11-20


def json_feed(items: list[dict]) -> str:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": items})


def entry(n: int, **fields) -> dict:
    return {"id": f"e{n}", "url": f"https://blog.example.org/{n}", "title": f"Entry {n}",
            "content_html": "<p>Body.</p>", "date_published": "2026-11-20T03:00:00Z", **fields}


def serve(httpserver, path: str, body: bytes | str, content_type: str = "application/feed+json") -> str:
    httpserver.expect_request(path).respond_with_data(body, content_type=content_type)
    return httpserver.url_for(path)


def peak_rss_of(project, *args: str) -> tuple[int, str, int]:
    """Run the CLI in a child process and return (exit status, stderr, peak RSS in bytes)."""
    env = dict(os.environ, TRENDBOT_CONFIG=str(project.root / "trendbot.toml"))
    pid = os.fork()
    if pid == 0:  # the child becomes trendbot, so its rusage is trendbot's alone
        err = os.open(project.root / "stderr.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(err, 2)
        os.chdir(project.root)
        os.execve(sys.executable, [sys.executable, "-m", "trendbot", *args], env)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), (project.root / "stderr.txt").read_text(), usage.ru_maxrss * 1024


# -- 1. deadlines ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["drip", "slow_headers"])
def test_a_dripping_server_fails_its_source_at_the_deadline_and_the_day_is_still_published(project, run, httpserver, fault):
    server = FaultServer({}, fault, "/slow")
    try:
        project.write_config(http={"timeout": "2s", "deadline": "1500ms", "retries": 2})
        project.add_source("slow", kind="feed", url=f"{server.base}/slow/feed.xml")
        project.add_source("lab", kind="feed", url=serve(httpserver, "/lab.xml", LAB_FEED, "application/atom+xml"))
        result = run("digest", "--date", DAY, "--fetch", "--publish")
    finally:
        server.close()
    assert result.exit_code == 1, result.output
    assert f"{server.base}/slow/feed.xml: no complete answer within 1.5s ([http] deadline)" in result.stderr
    published = (project.root / "digests" / f"{DAY}.md").read_text(encoding="utf-8")
    assert "Scaling laws for tiny models" in published   # the good source made the day
    states = {row["name"]: row for row in json.loads(run("sources", "--json").stdout)}
    assert "[http] deadline" in states["slow"]["last_error"]


def test_a_source_that_takes_too_long_in_all_fails_at_its_own_deadline(project, run, httpserver):
    import time

    def slow(request: Request) -> Response:
        time.sleep(0.4)
        return Response("[]", content_type="application/json")

    httpserver.expect_request("/hf/api/daily_papers").respond_with_handler(slow)
    project.write_config(http={"source_deadline": "1s"})
    project.add_source("hf", kind="hf_papers", base_url=httpserver.url_for("/hf"), days=14)
    project.add_source("lab", kind="feed", url=serve(httpserver, "/lab.xml", LAB_FEED, "application/atom+xml"))
    result = run("fetch")
    assert result.exit_code == 1
    assert "source hf: not finished within 1s ([http] source_deadline); last request: " \
           f"{httpserver.url_for('/hf/api/daily_papers')}?date=" in result.stderr
    assert "lab: 2 items (2 new, 0 updated)" in result.stdout


# -- 2. deeply nested markup ------------------------------------------------------------------


def test_deeply_nested_markup_is_read_as_far_as_it_is_bounded_and_the_item_stored(project, run, httpserver):
    deep = entry(1, title="Deep one", content_html="<p>Lead sentence here.</p>" + nested_markup())
    url = serve(httpserver, "/f.json", json_feed([deep, entry(2)]))
    project.add_source("f", kind="feed", url=url)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    rows = {row["title"]: row for row in project.rows("select title, text from items")}
    assert rows.keys() == {"Deep one", "Entry 2"}
    assert rows["Deep one"]["text"].startswith("Lead sentence here.")


# -- 3. stacked compression -------------------------------------------------------------------


def test_stacked_gzip_hits_the_cap_on_decoded_bytes_without_inflating_the_process(project):
    server = FaultServer({}, "gzip_bomb", "/bomb")
    try:
        project.write_config(http={"max_bytes": 10_000_000})
        for n in range(3):
            project.add_source(f"bomb{n}", kind="feed", url=f"{server.base}/bomb/{n}.xml")
        status, stderr, peak = peak_rss_of(project, "fetch")
    finally:
        server.close()
    assert status == 1
    assert stderr.count("over the 10 MB cap once decompressed") == 3, stderr
    assert peak < 300 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB"


def test_gzip_and_deflate_bodies_are_decoded(project, run, httpserver):
    import gzip
    import zlib

    httpserver.expect_request("/gz.xml").respond_with_data(
        gzip.compress(LAB_FEED), content_type="application/atom+xml", headers={"Content-Encoding": "gzip"})
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    httpserver.expect_request("/deflate.xml").respond_with_data(
        raw.compress(LAB_FEED.replace(b"lab.example.org", b"lab2.example.org")) + raw.flush(),
        content_type="application/atom+xml", headers={"Content-Encoding": "deflate"})
    project.add_source("gz", kind="feed", url=httpserver.url_for("/gz.xml"))
    project.add_source("deflate", kind="feed", url=httpserver.url_for("/deflate.xml"))
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "gz: 2 items" in result.stdout and "deflate: 2 items" in result.stdout


# -- 4. and 10. text made valid and inert at the edge ------------------------------------------


def test_a_lone_surrogate_and_control_characters_never_reach_the_store_the_terminal_or_the_post(project, run, httpserver):
    hostile = entry(1, title="Lone \udcff here \u009b31m and \u009d0;title\u0007 \u202eevil", content_html="<p>ok</p>")
    body = json_feed([hostile, entry(2)])  # json.dumps writes the surrogate as the escape \udcff
    project.add_source("f", kind="feed", url=serve(httpserver, "/f.json", body))
    project.add_source("lab", kind="feed", url=serve(httpserver, "/lab.xml", LAB_FEED, "application/atom+xml"))
    result = run("fetch")
    assert result.exit_code == 0, result.output
    titles = [row["title"] for row in project.rows("select title from items where source = 'f' order by title")]
    assert titles == ["Entry 2", "Lone \ufffd here 31m and 0;title evil"]
    section = run("digest", "--date", DAY, "--out", "-").stdout
    assert "Lone \ufffd here 31m and 0;title evil" in section
    assert not any(0x80 <= ord(ch) <= 0x9f or ch in "\u202e\x07" for ch in section + result.output)


def test_a_huge_title_is_cut_in_the_section(project, run, httpserver):
    huge = entry(1, title="word " * 200_000)
    project.add_source("f", kind="feed", url=serve(httpserver, "/f.json", json_feed([huge])))
    assert run("fetch").exit_code == 0
    section = run("digest", "--date", DAY, "--out", "-").stdout
    line = next(line for line in section.splitlines() if line.startswith("- "))
    assert len(line) < 400 and "word word" in line and "…" in line
    stored = project.rows("select length(title) n from items")[0]["n"]
    assert stored <= 500


# -- 5. URLs that cannot be encoded --------------------------------------------------------------


def test_a_url_whose_host_cannot_be_encoded_is_written_as_plain_text(project, run, httpserver):
    blog = project.root / "blog"
    blog.mkdir()
    project.write_config(blog={"repo": "blog"})
    bad = entry(1, url="https://\u00fc..example/", title="Bad host",
                content_html='<p>See <a href="https://\u00fc..example/x">this</a>.</p>')
    project.add_source("f", kind="feed", url=serve(httpserver, "/f.json", json_feed([bad, entry(2)])))
    assert run("fetch").exit_code == 0
    printed = run("digest", "--date", DAY, "--out", "-")
    assert printed.exit_code == 0, printed.output
    assert "- Bad host" in printed.stdout and "\u00fc..example" not in printed.stdout
    published = run("digest", "--date", DAY, "--publish")
    assert published.exit_code == 0, published.output
    post = (blog / "_posts" / f"{DAY}-daily-trends.md").read_text(encoding="utf-8")
    assert "- Bad host" in post and "[Entry 2](https://blog.example.org/2)" in post


# -- 6. Retry-After of any shape ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["99999999999999999999999", "\u00b2", "Fri, 31 Dec 9999 23:59:59 GMT", "soon"])
def test_any_retry_after_rests_the_mirror_and_the_next_one_is_tried(project, run, httpserver, value):
    akhaliq = read_data("x/nitter_2026-03_akhaliq.xml")

    def limited(request: Request) -> Response:
        return Response("slow down", status=429, headers={"Retry-After": value.encode("utf-8").decode("latin-1")})

    httpserver.expect_request("/m1/_akhaliq/rss").respond_with_handler(limited)
    base = httpserver.url_for("/m2")
    httpserver.expect_request("/m2/_akhaliq/rss").respond_with_data(
        akhaliq.replace(b"http://MIRROR", base.encode()).replace(b"MIRROR", base.split("://")[1].encode()),
        content_type="application/rss+xml")
    project.add_source("x", kind="x", accounts=["_akhaliq"], mirrors=[httpserver.url_for("/m1"), base],
                       stale_after="3000d")
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert project.rows("select count(*) n from items")[0]["n"] > 0
    details = "\n".join(json.loads(run("sources", "--json").stdout)[0]["details"])
    assert "HTTP 429" in details and "resting until" in details


# -- 7. API keys ---------------------------------------------------------------------------------


def digest_with_key(project, run, httpserver, monkeypatch, key: str):
    """The day's digest with the `openai` summarizer and `key` in its variable: (result, the
    Authorization headers the model server received)."""
    seen: list[str] = []

    def answer(request: Request) -> Response:
        seen.append(request.headers.get("Authorization", ""))
        return Response(json.dumps({"choices": [{"message": {"content": "요약 문장이 여기에 있음."}}]}),
                        content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(answer)
    monkeypatch.setenv("TRENDBOT_TEST_KEY", key)
    project.write_config(summarizer={"kind": "openai", "base_url": httpserver.url_for("/v1"),
                                     "api_key_env": "TRENDBOT_TEST_KEY", "timeout": "2s"})
    project.add_source("lab", kind="feed", url=serve(httpserver, "/lab.xml", LAB_FEED, "application/atom+xml"))
    assert run("fetch").exit_code == 0
    result = run("digest", "--date", DAY, "--out", "-")
    assert result.exit_code == 0, result.output
    return result, seen


def test_a_key_that_cannot_be_sent_gives_one_warning_without_the_key_and_the_extractive_lines(project, run, httpserver, monkeypatch):
    result, seen = digest_with_key(project, run, httpserver, monkeypatch, "sk-\u00dcNICODE-secret")
    assert seen == []  # nothing sent
    assert result.stderr.count("$TRENDBOT_TEST_KEY holds characters an API key cannot have") == 1
    assert "NICODE" not in result.output and "secret" not in result.output
    assert "We revisit scaling laws." in result.stdout


def test_a_key_with_a_trailing_newline_is_sent_without_it(project, run, httpserver, monkeypatch):
    result, seen = digest_with_key(project, run, httpserver, monkeypatch, "sk-plain-key\n")
    assert seen and set(seen) == {"Bearer sk-plain-key"}
    assert "요약 문장이 여기에 있음." in result.stdout


# -- 8. a full disk ------------------------------------------------------------------------------


def in_small_tmpfs(project, folder: Path, script: str) -> subprocess.CompletedProcess:
    """Run `script` (sh) in a private mount namespace where `folder` is a 2 MB tmpfs."""
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is needed to mount a small file system for the test")
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TRENDBOT_CONFIG=str(project.root / "trendbot.toml"), PY=sys.executable)
    wrapped = f"mount -t tmpfs -o size=2m tmpfs '{folder}' || exit 97\n" + textwrap.dedent(script)
    done = subprocess.run(["unshare", "-rm", "sh", "-ec", wrapped], cwd=project.root, env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode == 97 or "unshare failed" in done.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()[:200]}")
    return done


FILL = "dd if=/dev/zero of=\"$1/filler\" bs=4k 2>/dev/null || true"


def test_fetch_on_a_full_disk_says_which_file_and_no_space(project, httpserver):
    project.add_source("lab", kind="feed", url=serve(httpserver, "/lab.xml", LAB_FEED, "application/atom+xml"))
    disk = project.root / "disk"
    project.write_config(db="disk/trendbot.db")
    done = in_small_tmpfs(project, disk, f"""
        set -- '{disk}'
        "$PY" -m trendbot sources >/dev/null
        {FILL}
        "$PY" -m trendbot fetch && echo status=0 || echo "status=$?"
        rm "$1/filler"
        "$PY" -c "import sqlite3; print(sqlite3.connect('{disk}/trendbot.db').execute('pragma integrity_check').fetchone()[0])"
        """)
    assert "status=1" in done.stdout, done.stdout + done.stderr
    assert "trendbot: error:" in done.stderr and "trendbot.db" in done.stderr
    assert "no space left on the device" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.strip().endswith("ok")


def test_publish_on_a_full_disk_leaves_the_post_and_says_why(project, httpserver):
    project.add_source("lab", kind="feed", url=serve(httpserver, "/lab.xml", LAB_FEED, "application/atom+xml"))
    disk = project.root / "blog"
    project.write_config(blog={"repo": "blog", "post": "_posts/post.md"})
    done = in_small_tmpfs(project, disk, f"""
        set -- '{disk}'
        "$PY" -m trendbot fetch >/dev/null
        mkdir -p '{disk}/_posts'
        printf -- '---\\nlayout: post\\n---\\n\\nmy own words\\n' > '{disk}/_posts/post.md'
        {FILL}
        "$PY" -m trendbot digest --date {DAY} --publish && echo status=0 || echo "status=$?"
        cat '{disk}/_posts/post.md'
        ls -a '{disk}/_posts'
        """)
    assert "status=1" in done.stdout, done.stdout + done.stderr
    assert "trendbot: error: blog/_posts/post.md: not written (no space left on the device)" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.split("status=1\n", 1)[1].startswith("---\nlayout: post\n---\n\nmy own words\n")
    assert ".tmp" not in done.stdout  # no temporary file left behind


# -- 9. out-of-range input ------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["items", "--date", "9999-12-31"], '"9999-12-31" is out of range'),
    (["digest", "--date", "0001-01-01", "--out", "-"], '"0001-01-01" is out of range'),
])
def test_days_out_of_range_are_usage_errors(project, run, args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.stderr


@pytest.mark.parametrize("section, key, value, message", [
    ("source", "every", "99999999999w", "is longer than 3650d"),
    ("http", "timeout", "99999h", "is longer than 3650d"),
    ("http", "timeout", "2h", "out of range (100ms to 1h)"),
    ("http", "timeout", "0s", "out of range"),
    ("http", "deadline", "0s", "out of range"),
])
def test_durations_out_of_range_are_configuration_errors(project, run, section, key, value, message):
    if section == "source":
        project.add_source("lab", kind="feed", url="https://example.org/feed", **{key: value})
        where = "sources/lab.toml"
    else:
        project.write_config(**{section: {key: value}})
        where = "trendbot.toml"
    result = run("fetch")
    assert result.exit_code == 2
    assert where in result.stderr and key in result.stderr and message in result.stderr


def test_a_source_file_that_is_not_utf8_is_named(project, run):
    (project.root / "sources" / "latin.toml").write_bytes('kind = "feed"\nurl = "https://caf\xe9.example/"\n'.encode("latin-1"))
    result = run("sources")
    assert result.exit_code == 2
    assert "sources/latin.toml: not UTF-8 text" in result.stderr


def test_a_symlink_loop_in_sources_is_named(project, run):
    (project.root / "sources" / "loop.toml").symlink_to("loop.toml")
    result = run("sources")
    assert result.exit_code == 2
    assert "sources/loop.toml: cannot read" in result.stderr


def test_sources_dir_that_is_a_file_is_a_configuration_error(project, run):
    (project.root / "not-a-folder").write_text("x")
    project.write_config(sources_dir="not-a-folder")
    result = run("sources")
    assert result.exit_code == 2 and "sources_dir is not a folder" in result.stderr


@pytest.mark.parametrize("db, message", [("/dev/null", "it is not a regular file"), (".", "it is a folder")])
def test_a_database_path_that_is_no_database_file_is_a_usage_error(project, run, db, message):
    result = run("--db", db, "items")
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_a_file_that_is_not_a_database_is_named(project, run):
    (project.root / "notes.db").write_text("my notes, not SQLite\n" * 100)
    result = run("--db", "notes.db", "items")
    assert result.exit_code == 2
    assert "notes.db: cannot open the database: file is not a database" in result.stderr


# -- 11. search ----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ['"', "a\"b OR c*", "NEAR(", "(", "tiny-models"])
def test_any_search_query_is_read_as_plain_words(project, run, httpserver, query):
    project.add_source("lab", kind="feed", url=serve(httpserver, "/lab.xml", LAB_FEED, "application/atom+xml"))
    assert run("fetch").exit_code == 0
    result = run("search", query)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "syntax error" not in result.output


# -- 12. malformed feeds -------------------------------------------------------------------------


def test_a_broken_feed_with_nothing_readable_fails_its_source_with_the_parsers_reason(project, run, httpserver):
    url = serve(httpserver, "/broken.xml", "<rss><channel><item><title>x", "application/rss+xml")
    project.add_source("broken", kind="feed", url=url)
    result = run("fetch")
    assert result.exit_code == 1
    state = json.loads(run("sources", "--json").stdout)[0]
    assert state["last_error"].startswith(f"{url}: not well-formed XML (line ")
    assert state["last_error"].endswith("no element found); no entry could be read")


def test_a_broken_feed_that_still_yields_entries_stores_them_with_a_warning(project, run, httpserver):
    cut = LAB_FEED[: LAB_FEED.index(b"<entry>", LAB_FEED.index(b"</entry>"))] + b"<entry><title>cut off"
    url = serve(httpserver, "/cut.xml", cut, "application/atom+xml")
    project.add_source("cut", kind="feed", url=url)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "cut: 1 items (1 new, 0 updated)" in result.stdout
    assert "trendbot: cut: warning: " in result.stderr and "not well-formed XML" in result.stderr
    shown = run("sources")
    assert "warning: " + url in shown.stdout and "kept the 1 entries that could be read" in shown.stdout
