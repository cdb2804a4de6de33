"""Kind `x`: posts through Nitter mirrors and RSSHub, judged, deduplicated, with a circuit breaker.

One threaded local server plays a farm of mirrors under path prefixes (`/m1`, `/m2`, ...), each
switchable between a healthy feed and the ways real mirrors fail (FORMATS.md §3.3-3.4).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conftest import read_data
from trendbot.jobs import load as load_config
from trendbot import jobs
from trendbot.kinds.x import parse_timeline, problem_of
from trendbot.text import is_placeholder, wordless_title
from trendbot.store import Store

RSS = "application/rss+xml; charset=utf-8"
DAY = "2026-03-10"                                    # in Asia/Seoul
NOW = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)  # 23:00 KST on DAY
AKHALIQ_WANTED = {"2031249259885494395", "2031213667021750395", "2031176228664246395",
                  "2031135623607222395", "1985019066577846395"}   # not the reply, not the retweet
PINNED = "1985019066577846395"


def mirror_document(name: str, base: str) -> bytes:
    """A recorded document as the mirror at `base` would serve it: naming its own host."""
    host = base.split("://", 1)[1]
    return read_data(f"x/{name}").replace(b"http://MIRROR", base.encode()).replace(b"MIRROR", host.encode())


class MirrorFarm:
    """Mirrors under path prefixes of one server; `modes[name]` says how each one answers."""

    def __init__(self, server: HTTPServer):
        self.server = server
        self.modes: dict[str, str] = {}
        self.hits: Counter[str] = Counter()
        self.paths: list[str] = []
        server.expect_request(re.compile(r"/.*")).respond_with_handler(self.answer)

    def base(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.port}/{name}"

    def answer(self, request: Request) -> Response:
        name, _, rest = request.path.lstrip("/").partition("/")
        self.hits[name] += 1
        self.paths.append(request.path)
        mode = self.modes.get(name, "ok")
        base = self.base(name)
        account = rest.split("/")[-2] if rest.startswith("twitter/user/") else rest.split("/")[0]
        if mode == "500":
            return Response("Internal Server Error", status=500)
        if mode == "429":
            return Response("Instance has been rate limited.", status=429, headers={"Retry-After": "7200"})
        if mode == "slow":
            time.sleep(1.0)
            return Response(mirror_document("nitter_2026-03_akhaliq.xml", base), content_type=RSS)
        if mode == "html":
            return Response(read_data("x/nitter_error_page_200.html"), content_type="text/html; charset=utf-8")
        if mode == "empty":
            return Response(mirror_document("nitter_2026-03_empty.xml", base), content_type=RSS)
        if mode == "stale":
            return Response(read_data("x/nitter_2023-06_extrafabulous_nitter.net.xml"), content_type=RSS)
        if mode == "xcancel":
            return Response(read_data("x/xcancel_not_whitelisted.xml"), content_type=RSS)
        if mode == "rsshub" and account == "_akhaliq":
            return Response(mirror_document("rsshub_2026-03_akhaliq.xml", base), content_type=RSS)
        if mode == "ok" and account == "_akhaliq":
            return Response(mirror_document("nitter_2026-03_akhaliq.xml", base), content_type=RSS)
        if mode == "wordless" and account == "_akhaliq":
            return Response(mirror_document("nitter_2026-03_akhaliq_wordless.xml", base), content_type=RSS)
        return Response(f'User "{account}" not found', status=404)


@pytest.fixture
def farm():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)  # a slow mirror must not block the others
    server.start()
    try:
        yield MirrorFarm(server)
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def add_x(project, farm: MirrorFarm, mirrors=("m1", "m2"), **keys) -> None:
    keys.setdefault("accounts", ["_akhaliq"])
    project.add_source("x", kind="x", mirrors=[farm.base(m) for m in mirrors], **keys)


def cycle(project, now: datetime = NOW):
    """One fetch cycle at a chosen moment (the breaker and staleness depend on `now`)."""
    config = load_config(project.root / "trendbot.toml")
    with Store(config.db_path) as store:
        report = jobs.fetch(config, store, now=now)
    return report.outcomes[0]


def health(project, farm: MirrorFarm, name: str) -> dict:
    rows = project.rows("select value from source_kv where source = 'x' and key = ?",
                        (f"endpoint:{farm.base(name)}",))
    return json.loads(rows[0]["value"]) if rows else {}


def stored(project) -> dict[str, dict]:
    return {row["guid"]: row for row in project.rows("select * from items where source = 'x'")}


# -- parsing recorded documents -------------------------------------------------------------

def test_newer_template_posts_get_x_links_real_targets_and_plain_text():
    base = "http://127.0.0.1:8080/nitter"
    timeline = parse_timeline(mirror_document("nitter_2026-03_akhaliq.xml", base), source="x",
                              feed_url=f"{base}/_akhaliq/rss", account="_akhaliq")
    posts = {p.guid: p for p in timeline.posts}
    assert len(posts) == timeline.entries == 7

    paper = posts["2031213667021750395"]
    assert paper.url == "https://x.com/_akhaliq/status/2031213667021750395"
    assert paper.author == "@_akhaliq"
    assert paper.published_at == datetime(2026, 3, 10, 3, 40, 51, tzinfo=timezone.utc)
    assert paper.links == ["https://huggingface.co/papers/2603.04567",
                           "https://github.com/raymin0223/mixture_of_recursions"]
    assert paper.text == ("Mixture of Recursions: Learning Dynamic Recursive Depths for Adaptive Token-Level "
                          "Computation discuss: https://huggingface.co/papers/2603.04567 code: "
                          "https://github.com/raymin0223/mixture_of_recursions cc @karpathy #LLM")
    assert paper.title.startswith("Mixture of Recursions: Learning Dynamic Recursive Depths")
    assert len(paper.title) <= 100

    video = posts["2031176228664246395"]
    assert video.title == "Meta presents Self-Taught Evaluators at Scale paper: arxiv.org/abs/2603.01234"
    assert video.links == ["https://arxiv.org/abs/2603.01234"]   # not its own link, not the thumbnail

    quote = posts["2031249259885494395"]
    assert quote.title == "This is the paper everyone is talking about today"
    assert "Introducing Gemini Diffusion 2" in quote.text
    assert quote.links == ["https://deepmind.google/discover/blog/gemini-diffusion-2/",
                           "https://x.com/GoogleDeepMind/status/2031199410582454395"]

    reading = posts["2031135623607222395"]
    assert reading.text == ("Reading list for the week on agents and evals "
                            "https://www.example-blog.ai/posts/agents-evals via "
                            "https://x.com/hardmaru/status/2030976894366646395")
    assert reading.links[0] == "https://www.example-blog.ai/posts/agents-evals?utm_source=twitter&utm_medium=social"

    for post in timeline.posts:
        everything = " ".join([post.url, post.title, post.text, *post.links])
        assert "127.0.0.1" not in everything and "/pic/" not in everything

    retweet = posts["2031297884451766395"]
    assert retweet.url == "https://x.com/karpathy/status/2031297884451766395"
    assert retweet.author == "@karpathy" and retweet.extra["retweeted_by"] == "@_akhaliq"
    assert not retweet.title.startswith("RT")
    assert posts["2031325478777782395"].extra == {"reply_to": "@ylecun"}
    pinned = posts[PINNED]
    assert pinned.extra == {"pinned": True} and pinned.title.startswith("Daily papers")
    assert pinned.published_at == datetime(2025, 11, 2, 16, 20, tzinfo=timezone.utc)
    assert problem_of(timeline, NOW, timedelta(days=30)) is None


def test_2023_template_with_url_guids_is_read_and_judged_stale():
    timeline = parse_timeline(read_data("x/nitter_2023-06_extrafabulous_nitter.net.xml"), source="x",
                              feed_url="http://127.0.0.1:9/extrafabulous/rss", account="extrafabulous")
    posts = {p.guid: p for p in timeline.posts}
    assert set(posts) == {"1664634629456887813", "1664067666162728960", "1664280381473058817"}
    assert posts["1664634629456887813"].url == "https://x.com/extrafabulous/status/1664634629456887813"
    retweet = posts["1664280381473058817"]
    assert retweet.url == "https://x.com/PervisTime/status/1664280381473058817"
    assert retweet.extra["retweeted_by"] == "@extrafabulous"
    reason = problem_of(timeline, NOW, timedelta(days=30))
    assert reason.startswith("stale: newest post is from 2023-06-02")


def test_rsshub_feed_gives_the_same_items_as_nitter():
    nitter = parse_timeline(mirror_document("nitter_2026-03_akhaliq.xml", "http://127.0.0.1:1/m1"), source="x",
                            feed_url="http://127.0.0.1:1/m1/_akhaliq/rss", account="_akhaliq")
    rsshub = parse_timeline(mirror_document("rsshub_2026-03_akhaliq.xml", "http://127.0.0.1:2"), source="x",
                            feed_url="http://127.0.0.1:2/twitter/user/_akhaliq", account="_akhaliq")
    by_guid = {p.guid: p for p in nitter.posts}
    for post in rsshub.posts:
        twin = by_guid[post.guid]
        assert (post.key, post.url, post.links, post.author) == (twin.key, twin.url, twin.links, twin.author)
        assert not post.extra


# -- posts without words of their own ---------------------------------------------------------

PLACEHOLDERS = {"", "Image", "Video", "Gif", "Media"}
VIDEO, RETWEETED_PHOTO, QUOTE, GIF = ("2031349377921974667", "2031344344757174667",
                                      "2031340569883574667", "2031336795009974667")


def wordless_timeline(name: str, account: str = "_akhaliq"):
    base = "http://127.0.0.1:8080/nitter"
    return parse_timeline(mirror_document(name, base), source="x", feed_url=f"{base}/{account}/rss", account=account)


def test_a_photo_and_a_retweeted_photo_say_what_they_are():
    """The real 2023 feed: an image-only post (Nitter's title "Image") and a retweet of one
    (title "RT by @extrafabulous: " and nothing after it)."""
    posts = {p.guid: p for p in wordless_timeline("nitter_2023-06_extrafabulous_nitter.net.xml", "extrafabulous").posts}
    photo = posts["1664634629456887813"]
    assert photo.title == "@extrafabulous의 사진" and photo.text == ""
    retweet = posts["1664280381473058817"]
    assert retweet.title == "@PervisTime의 사진"
    assert retweet.author == "@PervisTime" and retweet.extra == {"retweeted_by": "@extrafabulous"}
    assert posts["1664067666162728960"].title == "SAMPLE TWEET WITH NO IMAGE"   # words stay the title


def test_a_2023_video_post_is_a_video():
    posts = {p.guid: p for p in wordless_timeline("nitter_2023-06_extrafabulous_video.xml", "extrafabulous").posts}
    assert posts["1664634629456887813"].title == "@extrafabulous의 동영상"
    assert posts["1664280381473058817"].title == "@PervisTime의 사진"


def test_wordless_posts_of_the_2026_template_are_titled_by_what_they_hold():
    timeline = wordless_timeline("nitter_2026-03_akhaliq_wordless.xml")
    posts = {p.guid: p for p in timeline.posts}
    assert posts[VIDEO].title == "@_akhaliq의 동영상" and posts[VIDEO].links == []
    assert posts[RETWEETED_PHOTO].title == "@GoogleDeepMind의 사진"
    assert posts[RETWEETED_PHOTO].extra == {"retweeted_by": "@_akhaliq"}
    assert posts[QUOTE].title == "인용: nanochat d32 is now the default: a better model for the same $100"
    assert posts[QUOTE].links[0].startswith("https://x.com/karpathy/status/")
    assert posts[GIF].title == "@_akhaliq의 동영상"   # X plays a GIF as a looping video
    for post in timeline.posts:
        assert post.title not in PLACEHOLDERS and not re.fullmatch(r"@\w+", post.title), post.guid
        assert "127.0.0.1" not in post.title + post.text


def test_a_link_card_titles_a_card_only_post_and_stays_out_of_a_posts_title():
    """The 2026-06 template appends `<hr/><b>Link</b>…` after the text; a post that is only a
    card is titled with the card's title by Nitter itself."""
    posts = {p.title: p for p in wordless_timeline("nitter_2026-06_akhaliq_cards.xml").posts}
    assert set(posts) == {"Worth reading on small models", "Gemma 3n is out"}
    with_card = posts["Worth reading on small models"]
    assert with_card.links == ["https://huggingface.co/blog/smollm3"]
    assert "SmolLM3: smol, multilingual, long-context reasoner" in with_card.text
    assert not with_card.text.startswith("Link") and " Link " not in with_card.text
    assert posts["Gemma 3n is out"].links == ["https://developers.googleblog.com/en/introducing-gemma-3n/"]


@given(account=st.one_of(st.none(), st.text(max_size=20)), card=st.one_of(st.none(), st.text(max_size=30)),
       quote=st.one_of(st.none(), st.text(max_size=30)), alt=st.one_of(st.none(), st.text(max_size=30)),
       media=st.sets(st.sampled_from(["photo", "video", "gif", "audio"])))
def test_a_wordless_title_is_never_a_placeholder(account, card, quote, alt, media):
    title = wordless_title(account, card=card, quote=quote, alt=alt, media=media)
    assert title and not is_placeholder(title)


# -- failover against a farm of local mirrors -------------------------------------------------

def test_first_healthy_mirror_is_used_and_unwanted_posts_dropped(project, farm):
    add_x(project, farm, mirrors=("m1", "m2", "m3"))
    outcome = cycle(project)
    assert outcome.status == "ok", outcome.error
    assert farm.hits == Counter({"m1": 1})
    assert farm.paths == ["/m1/_akhaliq/rss"]
    items = stored(project)
    assert set(items) == AKHALIQ_WANTED
    assert {row["url"] for row in items.values()} == {f"https://x.com/_akhaliq/status/{i}" for i in AKHALIQ_WANTED}
    assert health(project, farm, "m1")["last_ok"] == "2026-03-10T14:00:00+00:00"
    # the pinned post keeps its own day; it is not news of DAY
    assert items[PINNED]["day"] == "2025-11-03" and items[PINNED]["published_at"] == "2025-11-02T16:20:00+00:00"
    assert {row["day"] for guid, row in items.items() if guid != PINNED} == {DAY}


def test_retweets_and_replies_kept_when_asked(project, farm):
    add_x(project, farm, include_retweets=True, include_replies=True)
    assert cycle(project).status == "ok"
    assert farm.paths == ["/m1/_akhaliq/with_replies/rss"]
    items = stored(project)
    assert set(items) == AKHALIQ_WANTED | {"2031297884451766395", "2031325478777782395"}
    assert items["2031297884451766395"]["author"] == "@karpathy"


@pytest.mark.parametrize("mode, reason", [
    ("500", "HTTP 500 Internal Server Error"),
    ("slow", "timed out"),
    ("html", "not a feed"),
    ("empty", "empty feed"),
    ("stale", "stale: newest post is from 2023-06-02"),
    ("xcancel", "not whitelisted"),
    ("429", "HTTP 429"),
])
def test_a_bad_mirror_is_skipped_and_its_failure_recorded(project, farm, run, mode, reason):
    project.write_config(http={"timeout": "300ms", "retries": 0})
    add_x(project, farm)
    farm.modes["m1"] = mode
    outcome = cycle(project)
    assert outcome.status == "ok", outcome.error
    assert farm.hits["m1"] == 1 and farm.hits["m2"] == 1
    assert set(stored(project)) == AKHALIQ_WANTED
    assert "127.0.0.1" not in json.dumps(project.rows("select url, links, title, text from items"))
    m1, m2 = health(project, farm, "m1"), health(project, farm, "m2")
    assert m1["failures"] == 1 and reason in m1["last_reason"] and m1["last_ok"] is None
    assert m2["failures"] == 0 and m2["last_ok"]
    assert project.rows("select last_error, next_fetch_after from source_state") == [
        {"last_error": None, "next_fetch_after": None}]   # one mirror's trouble is not the source's
    shown = run("sources").stdout
    assert f"nitter {farm.base('m1')}: last ok never, 1 failure in a row (last: " in shown
    assert reason in shown


def test_breaker_skips_a_tripped_mirror_then_tries_it_after_the_cooldown(project, farm, run):
    add_x(project, farm, failures_to_trip=2, cooldown="1h")
    farm.modes["m1"] = "500"
    cycle(project, NOW)
    assert health(project, farm, "m1")["failures"] == 1 and not health(project, farm, "m1")["cooldown_until"]

    farm.modes["m2"] = "500"              # both failing: m1 is tried again, and trips
    assert cycle(project, NOW + timedelta(minutes=10)).status == "failed"
    assert farm.hits == Counter({"m1": 2 + 2, "m2": 1 + 2})   # the client retries a 500 once
    tripped = health(project, farm, "m1")
    assert tripped["failures"] == 2 and tripped["cooldown_until"] == "2026-03-10T15:10:00+00:00"

    farm.modes["m1"] = "ok"               # healthy again, but resting: not asked within the cool-down
    outcome = cycle(project, NOW + timedelta(minutes=40))
    assert farm.hits["m1"] == 4
    assert outcome.status == "failed" and "resting until 2026-03-10 15:10 UTC" in outcome.error
    assert "resting until 2026-03-11 00:10 KST" in run("sources").stdout  # in the configured zone

    outcome = cycle(project, NOW + timedelta(minutes=80))   # cool-down over: tried again, and it works
    assert outcome.status == "ok", outcome.error
    assert farm.hits["m1"] == 5
    recovered = health(project, farm, "m1")
    assert recovered["failures"] == 0 and recovered["cooldown_until"] is None
    assert recovered["last_ok"] == "2026-03-10T15:20:00+00:00"


def test_a_recently_failed_mirror_is_tried_last(project, farm):
    add_x(project, farm)
    farm.modes["m1"] = "empty"
    cycle(project, NOW)
    farm.modes["m1"] = "ok"
    cycle(project, NOW + timedelta(minutes=30))
    assert farm.paths[-1].startswith("/m2/") and farm.hits == Counter({"m1": 1, "m2": 2})


def test_same_post_through_two_mirrors_is_stored_once(project, farm):
    add_x(project, farm, failures_to_trip=1)
    cycle(project, NOW)
    before = project.rows("select id, guid, url, first_seen_at from items order by id")
    farm.modes["m1"] = "500"
    outcome = cycle(project, NOW + timedelta(hours=1))
    assert outcome.status == "ok" and farm.hits["m2"] == 1
    assert outcome.new == 0
    after = project.rows("select id, guid, url, first_seen_at from items order by id")
    assert after == before and len(after) == len(AKHALIQ_WANTED)


def test_rsshub_is_used_when_the_mirrors_fail(project, farm):
    add_x(project, farm, mirrors=("m1",), rsshub=[farm.base("hub")])
    farm.modes.update(m1="html", hub="rsshub")
    assert cycle(project).status == "ok"
    assert farm.paths[-1] == "/hub/twitter/user/_akhaliq/includeRts=false&includeReplies=false"
    assert set(stored(project)) == {"2031213667021750395", "2031176228664246395"}


# -- through the CLI ---------------------------------------------------------------------------

def test_digest_shows_the_days_posts_with_x_links(project, farm, run):
    add_x(project, farm, stale_after="3000d")   # the recorded posts are from 2026-03; the clock is real
    fetched = run("fetch")
    assert fetched.exit_code == 0, fetched.output
    assert "x: 5 items (5 new, 0 updated)" in fetched.stdout
    result = run("digest", "--date", DAY, "--out", "-")
    assert result.exit_code == 0, result.output
    section = result.stdout
    for guid in AKHALIQ_WANTED - {PINNED}:
        assert f"(https://x.com/_akhaliq/status/{guid})" in section
    assert "Meta presents Self-Taught Evaluators at Scale" in section
    assert "This is the paper everyone is talking about today" in section
    for line in section.splitlines()[2:]:
        title = line[3:].split("](", 1)[0]
        assert line.count(title[:40]) == 1, f"the post's text is said twice: {line}"
    assert PINNED not in section and "2031297884451766395" not in section and "ylecun" not in section
    assert "127.0.0.1" not in section
    assert PINNED not in run("items", "--date", "today").stdout


def test_a_media_only_posts_digest_line_says_what_it_is(project, farm, run):
    farm.modes["m1"] = "wordless"
    add_x(project, farm, include_retweets=True, stale_after="3000d")
    fetched = run("fetch")
    assert fetched.exit_code == 0, fetched.output
    section = run("digest", "--date", DAY, "--out", "-").stdout
    lines = [line for line in section.splitlines() if line.startswith("- [")]
    # markdown escapes the underscore of the handle
    assert f"- [@\\_akhaliq의 동영상](https://x.com/_akhaliq/status/{VIDEO}) · X @\\_akhaliq" in lines
    assert (f"- [@GoogleDeepMind의 사진](https://x.com/GoogleDeepMind/status/{RETWEETED_PHOTO})"
            " · X @GoogleDeepMind") in lines
    assert any(line.startswith("- [인용: nanochat d32 is now the default") for line in lines)
    for line in lines:
        title = line[3:].split("](", 1)[0].replace("\\", "")
        assert title not in PLACEHOLDERS and not re.fullmatch(r"@\w+", title), line


def test_an_account_no_mirror_serves_is_noted_while_the_others_are_stored(project, farm, run):
    add_x(project, farm, accounts=["_akhaliq", "ghost_account"], stale_after="3000d")
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert set(stored(project)) == AKHALIQ_WANTED
    shown = run("sources").stdout
    assert "@ghost_account: not fetched" in shown and "HTTP 404 Not Found" in shown


def test_source_fails_naming_every_endpoint_when_no_account_is_read(project, farm, run):
    add_x(project, farm)
    farm.modes.update(m1="500", m2="xcancel")
    result = run("fetch")
    assert result.exit_code == 1
    assert f"{farm.base('m1')}: HTTP 500" in result.stderr
    assert f"{farm.base('m2')}: not whitelisted" in result.stderr
    assert project.rows("select count(*) n from items") == [{"n": 0}]


def test_an_enabled_source_without_endpoints_is_a_config_error(project, run):
    project.add_source("x", kind="x", accounts=["karpathy"])
    result = run("sources")
    assert result.exit_code == 2
    assert "sources/x.toml" in result.stderr and "mirrors" in result.stderr


def test_bad_account_name_is_a_config_error(project, run):
    project.add_source("x", kind="x", accounts=["not a name"], mirrors=["https://nitter.example.org"])
    result = run("sources")
    assert result.exit_code == 2 and "accounts" in result.stderr and "not a name" in result.stderr


def test_the_template_loads(project, run):
    template = Path(__file__).parent.parent / "trendbot" / "templates" / "sources" / "x.toml"
    (project.root / "sources" / "x.toml").write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    result = run("sources")
    assert result.exit_code == 0, result.output
    assert "x (disabled)  [x, every 1h]" in result.stdout
