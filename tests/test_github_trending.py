"""The `github_trending` kind: real trending pages of three markup generations parsed directly,
and fetched through the real CLI from a local server (languages, conditional GET, failures),
down to the digest line and the paper whose code the repository is."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from trendbot.errors import ParseError
from trendbot.kinds.github_trending import GithubTrendingSource, meta, page_urls, parse_trending, popularity
from conftest import stored, read_data

HTML = "text/html; charset=utf-8"
DAILY = "github_trending/trending_daily_2026-07.html"


def parse(name: str, url: str = "http://gh.test/trending?since=daily"):
    return parse_trending(read_data(name), source="gh", url=url)


def by_name(items):
    return {item.title: item for item in items}


def serve(server, name: str, path: str = "/trending", since: str = "daily", **response) -> None:
    server.expect_request(path, query_string={"since": since}).respond_with_data(
        read_data(name), content_type=HTML, **response)


def add_gh(project, server, name: str = "trending", **keys) -> None:
    project.add_source(name, kind="github_trending", base_url=server.url_for("/").rstrip("/"), **keys)


def requested(server) -> list[str]:
    return [request.full_path for request, _ in server.log]


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Seoul")).date().isoformat()


# -- parsing the recorded pages ---------------------------------------------------------------

def test_daily_page_of_2026_gives_each_repository_with_its_stars():
    items = parse(DAILY)
    assert [item.title for item in items] == ["wonderwhy-er/DesktopCommanderMCP", "oven-sh/bun", "abseil/abseil-cpp"]
    mcp = items[0]
    assert mcp.url == "https://github.com/wonderwhy-er/DesktopCommanderMCP"
    assert mcp.guid == "wonderwhy-er/desktopcommandermcp"
    assert mcp.popularity == {"stars": 6818, "forks": 883, "stars_today": 349}
    assert mcp.summary == mcp.text == ("This is MCP server for Claude that gives it terminal control, "
                                       "file system search and diff file editing capabilities")
    assert mcp.author == "wonderwhy-er" and mcp.published_at is None and mcp.links == []
    assert mcp.extra["language"] == "TypeScript" and mcp.extra["rank"] == 1 and mcp.extra["period"] == "today"
    assert mcp.extra["built_by"][:2] == ["wonderwhy-er", "serg33v"]
    assert by_name(items)["oven-sh/bun"].popularity == {"stars": 93906, "forks": 4918, "stars_today": 82}


def test_weekly_language_page_of_2026_counts_the_stars_of_the_week():
    items = parse("github_trending/trending_rust_weekly_2026-05.html")
    assert len(items) == 16
    warp = items[0]
    assert warp.title == "warpdotdev/warp"
    assert warp.popularity == {"stars": 55730, "forks": 4088, "stars_this_week": 15633}
    assert warp.extra["period"] == "this week" and warp.extra["language"] == "Rust"
    assert warp.text == "Warp is an agentic development environment, born out of the terminal."
    assert popularity(warp.popularity) == 15633
    assert meta(stored(popularity=warp.popularity, extra=warp.extra)) == ["★ +15.6k"]


def test_page_of_2019_with_h1_headings_and_suffixed_star_links():
    items = parse("github_trending/trending_daily_2019-10.html")
    assert len(items) == 25
    folio = items[0]
    assert folio.url == "https://github.com/brunosimon/folio-2019"
    # the star link of that year was /brunosimon/folio-2019/stargazers.folio-2019
    assert folio.popularity == {"stars": 744, "forks": 82, "stars_today": 107}
    assert folio.text == "" and folio.summary is None  # the repository had no description
    assert by_name(items)["neex/phuip-fpizdam"].text == "Exploit for CVE-2019-11043"


def test_repo_list_page_of_early_2019():
    items = parse("github_trending/trending_daily_2019-04.html")
    assert len(items) == 25
    first = items[0]
    assert first.title == "996icu/996.ICU" and first.url == "https://github.com/996icu/996.ICU"
    assert first.popularity == {"stars": 227244, "forks": 19058, "stars_today": 1379}
    assert first.extra["language"] == "Rust"
    assert first.text.startswith("Repo for counting stars and contributing.")
    assert items[-1].title == "dessalines/lemmy" and items[-1].extra["rank"] == 25


@pytest.mark.parametrize("name", ["hf/not_a_listing.html", "feeds/not_a_feed.html", "hf/api_2026-06-12.json"])
def test_a_page_without_repository_rows_is_a_parse_error_naming_the_url(name):
    with pytest.raises(ParseError, match="no repositories in the page") as caught:
        parse(name, url="http://gh.test/trending?since=daily")
    assert caught.value.url == "http://gh.test/trending?since=daily"


def test_rows_that_link_no_repository_are_a_shape_change():
    page = read_data(DAILY).replace(b'href="/wonderwhy-er/DesktopCommanderMCP"', b'href="#"')
    page = page.replace(b'href="/oven-sh/bun"', b'href="#"').replace(b'href="/abseil/abseil-cpp"', b'href="#"')
    with pytest.raises(ParseError, match="none of the 3 rows links to a repository"):
        parse_trending(page, source="gh", url="u")


def test_meta_shows_gained_stars_in_short_form():
    assert meta(stored(popularity={"stars_today": 540, "stars": 9000}, extra={})) == ["★ +540"]
    assert meta(stored(popularity={"stars_today": 1601}, extra={})) == ["★ +1.6k"]
    assert meta(stored(popularity={"stars": 55730}, extra={})) == ["★ 55.7k"]  # a row without its gained stars
    assert popularity({"stars": 55730}) == 0


def test_page_urls_put_every_language_after_the_overall_page():
    source = GithubTrendingSource(name="gh", kind="github_trending", base_url="http://host:8080/gh/",
                                  languages=["Python", "C++", "python"], since="weekly")
    assert page_urls(source) == ["http://host:8080/gh/trending?since=weekly",
                                 "http://host:8080/gh/trending/python?since=weekly",
                                 "http://host:8080/gh/trending/c%2B%2B?since=weekly"]


# -- fetching through the CLI from a local server -------------------------------------------------

def test_fetch_stores_repositories_under_their_public_links(project, httpserver, run):
    add_gh(project, httpserver)
    serve(httpserver, DAILY)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "trending: 3 items (3 new, 0 updated)" in result.stdout
    assert requested(httpserver) == ["/trending?since=daily"]
    rows = {row["guid"]: row for row in project.rows("select * from items")}
    mcp = rows["wonderwhy-er/desktopcommandermcp"]
    assert mcp["url"] == "https://github.com/wonderwhy-er/DesktopCommanderMCP"  # not the local server
    assert json.loads(mcp["popularity"]) == {"forks": 883, "stars": 6818, "stars_today": 349}
    assert mcp["day"] == today()  # the page gives no time: the day it was first seen
    listed = run("items", "--date", "today", "--source", "trending")
    assert "oven-sh/bun" in listed.stdout


def test_language_pages_are_read_after_the_overall_one_and_a_repository_is_kept_once(project, httpserver, run):
    add_gh(project, httpserver, languages=["TypeScript", "rust"])
    serve(httpserver, DAILY)
    serve(httpserver, DAILY, "/trending/typescript")
    serve(httpserver, "github_trending/trending_rust_weekly_2026-05.html", "/trending/rust")
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert requested(httpserver) == ["/trending?since=daily", "/trending/typescript?since=daily",
                                     "/trending/rust?since=daily"]
    assert "trending: 19 items (19 new, 0 updated)" in result.stdout
    assert project.rows("select count(*) n from items where guid = 'oven-sh/bun'")[0]["n"] == 1


def test_unchanged_page_is_not_read_again(project, httpserver, run):
    add_gh(project, httpserver)
    serve(httpserver, DAILY, headers={"ETag": 'W/"trending-1"'})
    assert run("fetch").exit_code == 0
    httpserver.clear()
    httpserver.expect_request("/trending", headers={"If-None-Match": 'W/"trending-1"'}).respond_with_data("", status=304)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "trending: not modified" in result.stdout
    assert project.rows("select count(*) n from items")[0]["n"] == 3
    assert "last error" not in run("sources").stdout


def test_more_stars_later_update_the_row_in_place(project, httpserver, run):
    add_gh(project, httpserver)
    serve(httpserver, DAILY)
    assert run("fetch").exit_code == 0
    httpserver.clear()
    serve(httpserver, "github_trending/trending_daily_2026-07_later.html")
    result = run("fetch")
    assert "trending: 3 items (0 new, 1 updated)" in result.stdout
    [row] = project.rows("select popularity from items where guid = 'wonderwhy-er/desktopcommandermcp'")
    assert json.loads(row["popularity"]) == {"forks": 883, "stars": 6981, "stars_today": 512}


def test_too_many_requests_is_reported_and_the_source_waits(project, httpserver, run):
    add_gh(project, httpserver)
    httpserver.expect_request("/trending").respond_with_data("slow down", status=429, headers={"Retry-After": "120"})
    result = run("fetch")
    assert result.exit_code == 1
    assert "HTTP 429" in result.stderr and httpserver.url_for("/trending?since=daily") in result.stderr
    again = run("fetch")
    assert "trending: skipped, server asked to wait until" in again.stdout
    assert len(httpserver.log) == 1  # the second cycle asked nothing


def test_a_language_page_that_fails_is_noted_and_the_others_are_stored(project, httpserver, run):
    add_gh(project, httpserver, languages=["cobol"])
    serve(httpserver, DAILY)
    httpserver.expect_request("/trending/cobol").respond_with_data("not found", status=404)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "trending: 3 items (3 new, 0 updated)" in result.stdout
    assert "/trending/cobol?since=daily: not read: " in result.stderr and "HTTP 404" in result.stderr


def test_a_challenge_page_instead_of_the_trending_page_fails_the_source(project, httpserver, run):
    add_gh(project, httpserver)
    httpserver.expect_request("/trending").respond_with_data(read_data("hf/not_a_listing.html"), content_type=HTML)
    result = run("fetch")
    assert result.exit_code == 1
    failure = next(line for line in result.stderr.splitlines() if "trending failed" in line)
    assert httpserver.url_for("/trending?since=daily") in failure and "no repositories in the page" in failure


def test_bad_language_is_a_configuration_error(project, run):
    project.add_source("trending", kind="github_trending", languages=["python/../x"])
    result = run("fetch")
    assert result.exit_code == 2
    assert "sources/trending.toml: languages:" in result.stderr


def test_digest_line_shows_the_repository_and_its_stars_today(project, httpserver, run):
    add_gh(project, httpserver)
    serve(httpserver, DAILY)
    assert run("fetch").exit_code == 0
    result = run("digest", "--date", "today", "--out", "-")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("- ")]
    assert lines[0] == ("- [wonderwhy-er/DesktopCommanderMCP](https://github.com/wonderwhy-er/DesktopCommanderMCP)"
                        " — This is MCP server for Claude that gives it terminal control, file system search"
                        " and diff file editing capabilities · ★ +349")
    assert lines[1].startswith("- [oven-sh/bun](https://github.com/oven-sh/bun) — ") and lines[1].endswith(" · ★ +82")


def test_trending_repository_joins_the_paper_whose_code_it_is(project, httpserver, run):
    day = today()
    papers = read_data("hf/api_2026-06-12.json").replace(b'"submittedOnDailyAt":"2026-06-12',
                                                         f'"submittedOnDailyAt":"{day}'.encode())
    httpserver.expect_request("/api/daily_papers", query_string={"date": day, "limit": "50", "p": "0"}
                              ).respond_with_data(papers, content_type="application/json")
    project.add_source("huggingface", kind="hf_papers", base_url=httpserver.url_for("/").rstrip("/"), days=1)
    add_gh(project, httpserver)
    serve(httpserver, "github_trending/trending_daily_2026-07_evoarena.html")
    assert run("fetch").exit_code == 0
    rows = {row["source"]: row for row in json.loads(run("items", "--date", day, "--json").stdout)
            if row["url"] in ("https://huggingface.co/papers/2606.13681", "https://github.com/Aiden0526/EvoArena")}
    assert rows["trending"]["story_id"] == rows["huggingface"]["story_id"]
    assert rows["trending"]["merge_rule"] == "github:aiden0526/evoarena"
    section = run("digest", "--date", day, "--out", "-").stdout
    [line] = [line for line in section.splitlines() if "2606.13681" in line]
    assert line.startswith("- [EvoArena: Tracking Memory Evolution for Robust LLM Agents in Dynamic Environments]"
                           "(https://huggingface.co/papers/2606.13681)")
    assert line.endswith(" · HF ▲118 · [GitHub](https://github.com/Aiden0526/EvoArena)")
    assert "(https://github.com/Aiden0526/EvoArena) —" not in section  # not a line of its own


def test_template_loads_and_ships_disabled(project, run):
    from importlib import resources

    template = resources.files("trendbot") / "templates" / "sources" / "github_trending.toml"
    (project.root / "sources" / "github_trending.toml").write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    result = run("sources", "--json")
    assert result.exit_code == 0, result.stderr
    [source] = json.loads(result.stdout)
    assert source["kind"] == "github_trending" and source["enabled"] is False
