"""The `bluesky` kind: a real getAuthorFeed answer and variants made from it, parsed directly and
fetched through the real CLI from a local server (reposts, cursor paging, failures), down to the
digest line and the paper a post links."""

import copy
import json
from datetime import datetime, timezone

import pytest
from hypothesis import example, given, strategies as st

from trendbot.errors import ParseError
from trendbot.kinds.bluesky import LINK_FACET, expanded_text, feed_url, meta, parse_author_feed, popularity
from trendbot.text import clean
from conftest import stored, read_data

JSON = "application/json; charset=utf-8"
REAL = "bluesky/author_feed_benoist.dev_2024-11-03.json"
API = "/xrpc/app.bsky.feed.getAuthorFeed"


def parse(name: str = REAL, include_reposts: bool = False, body: bytes | None = None):
    return parse_author_feed(body if body is not None else read_data(name), source="bsky",
                             url="http://bsky.test/feed", include_reposts=include_reposts)


def by_rkey(items):
    return {item.url.rsplit("/", 1)[1]: item for item in items}


def real_entries() -> list[dict]:
    return json.loads(read_data(REAL))["feed"]


def serve(server, name: str, actor: str = "benoist.dev", limit: int = 30, cursor: str | None = None, **response):
    query = {"actor": actor, "filter": "posts_no_replies", "limit": str(limit)}
    if cursor:
        query["cursor"] = cursor
    server.expect_request(API, query_string=query).respond_with_data(read_data(name), content_type=JSON, **response)


def add_bsky(project, server, name: str = "bluesky", **keys) -> None:
    keys.setdefault("accounts", ["benoist.dev"])
    project.add_source(name, kind="bluesky", base_url=server.url_for("/").rstrip("/"), **keys)


def requested(server) -> list[str]:
    return [request.full_path for request, _ in server.log]


# -- parsing the recorded answers -----------------------------------------------------------------

def test_the_accounts_own_posts_are_kept_and_its_reposts_left_out():
    page = parse()
    assert page.entries == 30 and page.cursor == "2024-11-01T16:16:16.957Z"
    assert [item.url for item in page.items] == ["https://bsky.app/profile/benoist.dev/post/3l7vxiuivk52v",
                                                 "https://bsky.app/profile/benoist.dev/post/3l7vndehgbe2q"]
    post = page.items[0]
    assert post.guid == "at://did:plc:ubudpurydqvit3dhdnx4v6sv/app.bsky.feed.post/3l7vxiuivk52v"
    assert post.title == post.text == "Finally enough screen space for immersive doom scrolling."
    assert post.author == "@benoist.dev"
    assert post.published_at == datetime(2024, 11, 1, 19, 58, 59, 413000, tzinfo=timezone.utc)
    assert post.popularity == {"likes": 1, "reposts": 0, "replies": 0, "quotes": 0}
    assert post.extra == {"handle": "benoist.dev", "did": "did:plc:ubudpurydqvit3dhdnx4v6sv",
                          "display_name": "Erik ❤️", "embed": "images"}


def test_reposts_are_kept_when_asked_and_say_who_reposted():
    items = by_rkey(parse(include_reposts=True).items)
    assert len(items) == 30
    repost = items["3la2elupcqh2z"]
    assert repost.url == "https://bsky.app/profile/kelseyhightower.com/post/3la2elupcqh2z"
    assert repost.author == "@kelseyhightower.com" and repost.extra["reposted_by"] == "@benoist.dev"
    assert repost.popularity["likes"] == 431 and popularity(repost.popularity) == 431 + repost.popularity["reposts"]
    assert "reposted_by" not in items["3l7vxiuivk52v"].extra


def test_links_come_from_the_facets_and_the_link_card_with_their_full_targets():
    items = by_rkey(parse(include_reposts=True).items)
    theatre = items["3l7vj6inekt2m"]
    assert theatre.links == ["https://musicboxtheatre.com/films-and-events/anora",
                             "https://chicago.suntimes.com/movies-and-tv/2024/10/22/anora-review-mikey-madison-movie-sean-baker"]
    # the post shows "musicboxtheatre.com/films-and-ev..."; the text has the link it stands for
    assert "DCP: https://musicboxtheatre.com/films-and-events/anora" in theatre.text
    assert "films-and-ev..." not in theatre.text and "movies-and-t..." not in theatre.text
    snl = items["3la2jkexw642p"]
    assert snl.links == ["https://www.youtube.com/watch?v=e6Funs6yyEw"]  # facet and card: one link
    assert snl.title == "One of the best cold opens in Saturday Night Live history. youtube.com/watch?v=e6Funs6yyEw"
    assert items["3l7z4sedyej2g"].links == []  # a mention is not a link


def test_a_post_without_text_is_titled_by_what_it_shows():
    items = by_rkey(parse(include_reposts=True).items)
    assert items["3la2t43ir2y2e"].title == "@rewscott.bsky.social의 사진"  # an image without alt text
    alt = items["3l7vzp4b3272q"].title  # its alt text, cut as every title is
    assert alt.startswith('"legacy software companies adding an ai chatbot to their product" A Liquid Soap pump')
    assert alt.endswith("…") and len(alt) <= 100
    assert items["3la2t43ir2y2e"].text == ""


@pytest.mark.parametrize("rkey, edit, title", [
    ("3la2jkexw642p", lambda post: None, "2024 Pre-Election Cold Open - SNL"),
    ("3l7yz7dqnsx22", lambda post: None, "인용: With BlueArk, you can migrate your tweets from X/Twitter"),
    ("3la2t43ir2y2e", lambda post: post.update(embed={"$type": "app.bsky.embed.video#view", "cid": "bafkrei",
                                                      "playlist": "https://video.bsky.app/watch/x/playlist.m3u8"}),
     "@rewscott.bsky.social의 동영상"),
])
def test_wordless_link_cards_quotes_and_videos(rkey, edit, title):
    entries = [copy.deepcopy(e) for e in real_entries() if e["post"]["uri"].endswith(rkey)]
    entries[0]["post"]["record"]["text"] = ""
    entries[0]["post"]["record"].pop("facets", None)
    edit(entries[0]["post"])
    [item] = parse(include_reposts=True, body=json.dumps({"feed": entries}).encode()).items
    assert item.title.startswith(title)


@example("ab", [(0, 1), (0, 1)])
@example("한국어 arxiv.org/abs/2606.1…", [(3, 5), (10, 33)])
@given(st.text(max_size=60), st.lists(st.tuples(st.integers(-5, 200), st.integers(-5, 200)), max_size=4))
def test_facet_offsets_from_the_network_never_break_the_text(text, ranges):
    """Offsets count UTF-8 bytes and come from whatever client wrote the post: a range that splits
    a character, overlaps another or points past the end must not lose the rest of the text."""
    facets = [{"index": {"byteStart": start, "byteEnd": end},
               "features": [{"$type": LINK_FACET, "uri": f"https://example.org/{n}"}]}
              for n, (start, end) in enumerate(ranges)]
    expanded = expanded_text({"text": text, "facets": facets})
    size = len(text.encode("utf-8"))
    fitting = [n for n, (start, end) in enumerate(ranges) if 0 <= start < end <= size]
    if not fitting:
        assert expanded == clean(text)
    last = max(fitting, key=lambda n: ranges[n]) if fitting else None
    if last is not None:
        assert f"https://example.org/{last}" in expanded  # the facet nearest the end always applies


def test_empty_feed_is_an_account_with_nothing_to_show():
    page = parse("bluesky/author_feed_empty.json")
    assert page.items == [] and page.cursor is None and page.entries == 0


def test_a_page_of_reposts_only_is_not_a_shape_change():
    page = parse("bluesky/author_feed_p1.json")
    assert page.items == [] and page.entries == 15 and page.cursor == "2024-11-02T05:34:35.612Z"


@pytest.mark.parametrize("body, reason", [
    (read_data("hf/not_a_listing.html"), "not valid JSON"),
    (b'{"error":"InvalidRequest","message":"Profile not found"}', "XRPC error InvalidRequest: Profile not found"),
    (b'{"posts": []}', "expected an object with a feed list"),
    (b'{"feed": [{"post": {"uri": "https://bsky.app/x"}}]}', "none of the 1 entries is a post"),
])
def test_answers_not_understood_are_parse_errors_naming_the_url(body, reason):
    with pytest.raises(ParseError, match=reason) as caught:
        parse(body=body)
    assert caught.value.url == "http://bsky.test/feed"


def test_feed_url_encodes_the_actor_and_the_cursor():
    assert feed_url("http://h:8080/bsky", "did:plc:abc", 30, "2024-11-02T05:34:35.612Z") == (
        "http://h:8080/bsky/xrpc/app.bsky.feed.getAuthorFeed?actor=did%3Aplc%3Aabc&filter=posts_no_replies"
        "&limit=30&cursor=2024-11-02T05%3A34%3A35.612Z")


def test_meta_shows_likes_in_short_form():
    assert meta(stored(popularity={"likes": 210, "reposts": 12}, extra={})) == ["🦋 ♥210"]
    assert meta(stored(popularity={"likes": 2992, "reposts": 300}, extra={})) == ["🦋 ♥3k"]
    assert popularity({"likes": 210, "reposts": 12, "replies": 50}) == 222


# -- fetching through the CLI from a local server -------------------------------------------------

def test_fetch_stores_the_accounts_posts_under_their_public_links(project, httpserver, run):
    add_bsky(project, httpserver, accounts=["@Benoist.dev"])
    serve(httpserver, REAL)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "bluesky: 2 items (2 new, 0 updated)" in result.stdout
    assert requested(httpserver) == [f"{API}?actor=benoist.dev&filter=posts_no_replies&limit=30"]
    rows = {row["url"]: row for row in project.rows("select * from items")}
    post = rows["https://bsky.app/profile/benoist.dev/post/3l7vxiuivk52v"]
    assert post["day"] == "2024-11-02"  # 19:58 UTC on the 1st is past midnight in Seoul
    assert json.loads(post["popularity"]) == {"likes": 1, "quotes": 0, "replies": 0, "reposts": 0}


def test_reposts_are_stored_with_include_reposts(project, httpserver, run):
    add_bsky(project, httpserver, include_reposts=True)
    serve(httpserver, REAL)
    result = run("fetch")
    assert "bluesky: 30 items (30 new, 0 updated)" in result.stdout


def test_pages_are_followed_through_the_cursor_up_to_max_pages(project, httpserver, run):
    add_bsky(project, httpserver, limit=15, max_pages=2)
    serve(httpserver, "bluesky/author_feed_p1.json", limit=15)
    serve(httpserver, "bluesky/author_feed_p2.json", limit=15, cursor="2024-11-02T05:34:35.612Z")
    result = run("fetch")
    assert result.exit_code == 0, result.output
    # page 2 names a next cursor too; max_pages stops there
    assert requested(httpserver) == [f"{API}?actor=benoist.dev&filter=posts_no_replies&limit=15",
                                     f"{API}?actor=benoist.dev&filter=posts_no_replies&limit=15"
                                     "&cursor=2024-11-02T05%3A34%3A35.612Z"]
    assert "bluesky: 2 items (2 new, 0 updated)" in result.stdout  # the own posts are on page 2


def test_one_page_by_default(project, httpserver, run):
    add_bsky(project, httpserver, limit=15)
    serve(httpserver, "bluesky/author_feed_p1.json", limit=15)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert len(httpserver.log) == 1 and "bluesky: 0 items" in result.stdout


def test_an_account_without_posts_is_a_quiet_answer(project, httpserver, run):
    add_bsky(project, httpserver, accounts=["quiet.bsky.social"])
    serve(httpserver, "bluesky/author_feed_empty.json", actor="quiet.bsky.social")
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "bluesky: 0 items" in result.stdout and "last error" not in run("sources").stdout


def test_an_unknown_account_is_noted_while_the_others_are_stored(project, httpserver, run):
    add_bsky(project, httpserver, accounts=["ghost.bsky.social", "benoist.dev"])
    httpserver.expect_request(API, query_string={"actor": "ghost.bsky.social", "filter": "posts_no_replies",
                                                 "limit": "30"}).respond_with_json(
        {"error": "InvalidRequest", "message": "Profile not found"}, status=400)
    serve(httpserver, REAL)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "bluesky: 2 items (2 new, 0 updated)" in result.stdout
    assert "trendbot: bluesky: note: @ghost.bsky.social: not read: " in result.stderr and "HTTP 400" in result.stderr


def test_the_source_fails_when_no_account_could_be_read(project, httpserver, run):
    add_bsky(project, httpserver, accounts=["ghost.bsky.social"])
    httpserver.expect_request(API).respond_with_json({"error": "InvalidRequest", "message": "Profile not found"},
                                                      status=400)
    result = run("fetch")
    assert result.exit_code == 1
    assert "bluesky failed" in result.stderr and "actor=ghost.bsky.social" in result.stderr


def test_too_many_requests_is_reported_and_the_source_waits(project, httpserver, run):
    add_bsky(project, httpserver, accounts=["benoist.dev", "other.bsky.social"])
    httpserver.expect_request(API).respond_with_data("slow down", status=429, headers={"Retry-After": "120"})
    result = run("fetch")
    assert result.exit_code == 1 and "HTTP 429" in result.stderr
    assert len(httpserver.log) == 1  # the second account is not asked either
    assert "bluesky: skipped, server asked to wait until" in run("fetch").stdout


def test_more_likes_later_update_the_row_in_place(project, httpserver, run):
    add_bsky(project, httpserver)
    serve(httpserver, REAL)
    assert run("fetch").exit_code == 0
    httpserver.clear()
    serve(httpserver, "bluesky/author_feed_later.json")
    result = run("fetch")
    assert "bluesky: 2 items (0 new, 1 updated)" in result.stdout
    [row] = project.rows("select popularity from items where url like '%3l7vxiuivk52v'")
    assert json.loads(row["popularity"])["likes"] == 12
    assert project.rows("select count(*) n from items")[0]["n"] == 2


def test_bad_account_is_a_configuration_error(project, run):
    project.add_source("bluesky", kind="bluesky", accounts=["not a handle!"])
    result = run("fetch")
    assert result.exit_code == 2
    assert "sources/bluesky.toml: accounts:" in result.stderr


def test_digest_lines_show_the_post_and_its_likes(project, httpserver, run):
    add_bsky(project, httpserver, include_reposts=True)
    serve(httpserver, REAL)
    assert run("fetch").exit_code == 0
    section = run("digest", "--date", "2024-11-04", "--out", "-").stdout
    lines = [line for line in section.splitlines() if line.startswith("- ")]
    assert lines[0] == ("- [@rewscott.bsky.social의 사진](https://bsky.app/profile/rewscott.bsky.social/post/3la2t43ir2y2e)"
                        " · 🦋 ♥3k")
    own = run("digest", "--date", "2024-11-02", "--out", "-").stdout
    assert ("- [Finally enough screen space for immersive doom scrolling.]"
            "(https://bsky.app/profile/benoist.dev/post/3l7vxiuivk52v) · 🦋 ♥1") in own.splitlines()
    for line in section.splitlines()[2:]:
        title = line[3:].split("](", 1)[0]
        assert line.count(title[:40]) == 1, f"the post's text is said twice: {line}"


def test_a_post_linking_a_paper_joins_the_papers_story(project, httpserver, run):
    project.add_source("huggingface", kind="hf_papers", base_url=httpserver.url_for("/").rstrip("/"))
    httpserver.expect_request("/api/daily_papers", query_string={"date": "2026-06-12", "limit": "50", "p": "0"}
                              ).respond_with_data(read_data("hf/api_2026-06-12.json"), content_type=JSON)
    add_bsky(project, httpserver, accounts=["kelseyhightower.com"])
    serve(httpserver, "bluesky/author_feed_kelseyhightower.com_arxiv.json", actor="kelseyhightower.com")
    assert run("fetch", "--date", "2026-06-12").exit_code == 0
    section = run("digest", "--date", "2026-06-12", "--out", "-").stdout
    [line] = [line for line in section.splitlines() if "2606.13681" in line]
    assert line.startswith("- [EvoArena: Tracking Memory Evolution for Robust LLM Agents in Dynamic Environments]"
                           "(https://huggingface.co/papers/2606.13681)")
    assert line.endswith(" · HF ▲118 · [Bluesky](https://bsky.app/profile/kelseyhightower.com/post/3la2jkexw642p)")
    assert "Agents that keep their memory" not in section  # not a line of its own


def test_template_loads_and_ships_disabled(project, run):
    from importlib import resources

    template = resources.files("trendbot") / "templates" / "sources" / "bluesky.toml"
    (project.root / "sources" / "bluesky.toml").write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    result = run("sources", "--json")
    assert result.exit_code == 0, result.stderr
    [source] = json.loads(result.stdout)
    assert source["kind"] == "bluesky" and source["enabled"] is False
