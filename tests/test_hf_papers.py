"""The `hf_papers` kind: the real Daily Papers API answer and recorded variants, parsed directly
and fetched through the real CLI from a local server (API, paging, HTML fallback, failures)."""

import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from trendbot.errors import ParseError
from trendbot.kinds.hf_papers import days_to_fetch, parse_api_page, parse_listing_page
from conftest import read_data

DAY = "2026-06-12"
API_JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


def parse_api(name: str, listed_on=date(2026, 6, 12)):
    return parse_api_page(read_data(f"hf/{name}"), source="hf", listed_on=listed_on, url="http://hf.test/api")


def by_id(items):
    return {item.guid: item for item in items}


def serve_api(server, day: str, name: str, *, limit: int = 50, page: int = 0, prefix: str = "") -> None:
    server.expect_request(f"{prefix}/api/daily_papers",
                          query_string={"date": day, "limit": str(limit), "p": str(page)}
                          ).respond_with_data(read_data(f"hf/{name}"), content_type=API_JSON)


def serve_page(server, day: str, name: str, *, prefix: str = "") -> None:
    server.expect_request(f"{prefix}/papers/date/{day}").respond_with_data(read_data(f"hf/{name}"), content_type=HTML)


def fail_api(server, status: int = 500, prefix: str = "") -> None:
    server.expect_request(f"{prefix}/api/daily_papers").respond_with_data("Internal Error", status=status)


def add_hf(project, server, name: str = "huggingface", prefix: str = "", **keys) -> None:
    project.add_source(name, kind="hf_papers", base_url=server.url_for(prefix or "/").rstrip("/"), **keys)


def requested(server) -> list[str]:
    return [request.full_path.rstrip("?") for request, _ in server.log]


# -- parsing the recorded documents -------------------------------------------------------

def test_api_sample_gives_every_paper_with_its_fields():
    listing = parse_api("api_2026-06-12.json")
    assert listing.entries == 30 and len(listing.items) == 30
    paper = by_id(listing.items)["2606.13681"]
    assert paper.url == "https://huggingface.co/papers/2606.13681"
    assert paper.title == "EvoArena: Tracking Memory Evolution for Robust LLM Agents in Dynamic Environments"
    assert paper.text.startswith("Large language model (LLM) agents have achieved strong performance")
    assert paper.summary.startswith("EvoArena benchmark and EvoMem memory paradigm address the challenge")
    assert paper.published_at == datetime(2026, 6, 11, tzinfo=timezone.utc)  # arXiv date
    assert paper.day == date(2026, 6, 12)  # the Daily Papers date
    assert paper.popularity == {"upvotes": 118, "comments": 3, "stars": 9}
    assert paper.links == ["https://arxiv.org/abs/2606.13681", "https://github.com/Aiden0526/EvoArena",
                           "https://aiden0526.github.io/EvoArena/"]
    assert paper.author == "Jundong Xu et al."
    assert paper.extra["authors"][:2] == ["Jundong Xu", "Qingchuan Li"] and len(paper.extra["authors"]) == 14
    assert paper.extra["githubRepo"] == "https://github.com/Aiden0526/EvoArena"
    assert paper.extra["projectPage"] == "https://aiden0526.github.io/EvoArena/"
    assert paper.extra["submitter"] == {"user": "zhiyuanhucs", "fullname": "Zhiyuan Hu"}
    assert "EvoMem" in paper.extra["ai_keywords"]
    assert paper.extra["organization"] == "Massachusetts Institute of Technology"
    assert paper.extra["thumbnail"] == "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2606.13681.png"
    assert paper.extra["ai_summary_model"] == "Qwen/Qwen2.5-Coder-32B-Instruct"
    assert "withdrawn_at" not in paper.extra


def test_paper_without_repository_has_no_stars_and_only_the_arxiv_link():
    paper = by_id(parse_api("api_2026-06-12.json").items)["2606.00467"]
    assert paper.popularity == {"upvotes": 0, "comments": 2}
    assert paper.links == ["https://arxiv.org/abs/2606.00467"]
    assert "githubRepo" not in paper.extra and "projectPage" not in paper.extra


def test_abstract_line_breaks_are_collapsed():
    raw = {e["paper"]["id"]: e for e in json.loads(read_data("hf/api_2026-06-12.json"))}
    assert "\n" in raw["2606.09446"]["paper"]["summary"]
    paper = by_id(parse_api("api_2026-06-12.json").items)["2606.09446"]
    assert "\n" not in paper.text and "  " not in paper.text


def test_paper_without_ai_summary_has_no_summary_and_keeps_the_abstract():
    entries = json.loads(read_data("hf/api_2026-06-12.json"))[:1]
    del entries[0]["paper"]["ai_summary"]
    entries[0]["paper"]["title"] = "A title with an arXiv\n  hard wrap"
    [paper] = parse_api_page(json.dumps(entries).encode(), source="hf", listed_on=None, url="u").items
    assert paper.summary is None
    assert paper.title == "A title with an arXiv hard wrap"
    assert paper.text.startswith("Large Language Models (LLMs) are increasingly used for zero-shot annotation")


def test_listing_page_gives_the_same_items_as_the_api():
    page = parse_listing_page(read_data("hf/papers_date_2026-06-12.html"), source="hf",
                              listed_on=date(2026, 6, 12), url="http://hf.test/papers/date/2026-06-12")
    api = parse_api("api_2026-06-12.json")
    assert page.entries == 30
    assert [item.model_dump() for item in page.items] == [item.model_dump() for item in api.items]


def test_empty_listing_page_is_an_empty_day():
    page = parse_listing_page(read_data("hf/papers_date_2026-06-13.html"), source="hf",
                              listed_on=date(2026, 6, 13), url="u")
    assert page.items == [] and page.entries == 0


@pytest.mark.parametrize("name, reason", [
    ("api_wrong_shape.json", "expected a list of papers, got dict"),
    ("api_truncated.json", "not valid JSON"),
    ("papers_date_2026-06-12.html", "not valid JSON"),
])
def test_api_answers_not_understood_are_parse_errors_naming_the_url(name, reason):
    with pytest.raises(ParseError, match=reason) as caught:
        parse_api(name)
    assert caught.value.url == "http://hf.test/api"


def test_organization_is_optional_and_media_urls_are_kept():
    papers = by_id(parse_api("api_2026-06-12.json").items)
    assert papers["2606.00467"].extra["organization"] == "California institute of technology"
    assert "organization" not in papers["2606.12730"].extra   # 14 of the 30 have none
    with_media = [p for p in papers.values() if "media" in p.extra]
    assert len(with_media) == 2
    assert all(url.startswith("https://cdn-uploads.huggingface.co/") for p in with_media for url in p.extra["media"])


def test_an_answer_from_2024_is_read_as_today():
    """October 2024: no `submittedOnDailyAt`, `ai_summary`, `githubRepo` or `organization`; the
    item's `publishedAt` is the listing time. The listing day is the day asked for."""
    listing = parse_api("api_2024-10-25_first3.json", listed_on=date(2024, 10, 25))
    assert listing.entries == 3
    papers = by_id(listing.items)
    assert list(papers) == ["2410.17243", "2410.16251", "2410.18533"]
    paper = papers["2410.17243"]
    assert paper.title == "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss"
    assert paper.day == date(2024, 10, 25)
    assert paper.published_at == datetime(2024, 10, 22, 17, 59, 30, tzinfo=timezone.utc)  # arXiv time
    assert paper.popularity == {"upvotes": 64, "comments": 3}
    assert paper.summary is None and paper.text.startswith("Contrastive loss is a powerful approach")
    assert paper.links == ["https://arxiv.org/abs/2410.17243"]
    assert paper.author == "Zesen Cheng et al."
    assert paper.extra["submitter"] == {"user": "ClownRat", "fullname": "Zesen Cheng"}
    assert paper.extra["thumbnail"] == "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2410.17243.png"
    assert len(paper.extra["media"]) == 3
    assert not {"organization", "ai_summary_model", "githubRepo", "withdrawn_at"} & set(paper.extra)
    assert papers["2410.16251"].extra["submitter"] == {"user": "canyuchen", "fullname": "Canyu Chen"}


def test_counts_sent_as_floats_are_the_same_counts():
    """A client generated from HF's spec sends `118.0`: upvotes must not become 0 nor comments
    and stars vanish."""
    raw = json.loads(read_data("hf/api_2026-06-12_floats.json"))
    assert isinstance(raw[0]["paper"]["upvotes"], float) and isinstance(raw[0]["numComments"], float)
    floats = by_id(parse_api("api_2026-06-12_floats.json").items)
    ints = by_id(parse_api("api_2026-06-12.json").items)
    assert {k: p.popularity for k, p in floats.items()} == {k: p.popularity for k, p in ints.items()}
    assert floats["2606.13681"].popularity == {"upvotes": 118, "comments": 3, "stars": 9}
    assert all(type(n) is int for p in floats.values() for n in p.popularity.values())


def test_a_withdrawn_paper_is_kept_but_marked():
    papers = by_id(parse_api("api_2026-06-12_withdrawn.json").items)
    assert len(papers) == 30
    assert papers["2606.13681"].extra["withdrawn_at"] == "2026-06-12T15:04:05+00:00"
    assert sum("withdrawn_at" in p.extra for p in papers.values()) == 1


def test_entries_without_paper_id_are_a_shape_change():
    with pytest.raises(ParseError, match="none of the 2 entries has a paper id and title"):
        parse_api_page(b'[{"title": "x"}, {"paper": {"title": "y"}}]', source="hf", listed_on=None, url="u")


def test_page_without_daily_papers_div_is_a_parse_error():
    with pytest.raises(ParseError, match='no div\\[data-target="DailyPapers"\\]'):
        parse_listing_page(read_data("hf/not_a_listing.html"), source="hf", listed_on=None, url="u")


def test_days_are_today_and_yesterday_in_the_configured_zone_unless_one_is_asked():
    seoul = ZoneInfo("Asia/Seoul")
    late_utc = datetime(2026, 6, 12, 16, 30, tzinfo=timezone.utc)  # already 01:30 on the 13th in Seoul
    assert days_to_fetch(late_utc, seoul, 2) == [date(2026, 6, 12), date(2026, 6, 13)]
    assert days_to_fetch(late_utc, ZoneInfo("UTC"), 3) == [date(2026, 6, 10), date(2026, 6, 11), date(2026, 6, 12)]
    assert days_to_fetch(late_utc, seoul, 2, asked=date(2024, 8, 26)) == [date(2024, 8, 26)]


# -- fetching through the CLI from a local server -------------------------------------------

def test_fetch_date_backfills_the_day_from_the_api(project, httpserver, run):
    add_hf(project, httpserver)
    serve_api(httpserver, DAY, "api_2026-06-12.json")
    result = run("-v", "fetch", "--source", "huggingface", "--date", DAY)
    assert result.exit_code == 0, result.stderr
    assert "huggingface: 30 items (30 new, 0 updated)" in result.stdout
    assert "trendbot: huggingface: note: 2026-06-12: 30 papers from the API" in result.stderr
    assert requested(httpserver) == [f"/api/daily_papers?date={DAY}&limit=50&p=0"]
    rows = project.rows("select * from items where source = 'huggingface'")
    assert len(rows) == 30 and {row["day"] for row in rows} == {DAY}
    top = next(row for row in rows if row["guid"] == "2606.13681")
    assert top["url"] == "https://huggingface.co/papers/2606.13681"  # public, not the local server
    assert json.loads(top["popularity"]) == {"upvotes": 118, "comments": 3, "stars": 9}
    assert "https://arxiv.org/abs/2606.13681" in json.loads(top["links"])
    listed = run("items", "--date", DAY, "--source", "huggingface")
    assert "EvoArena: Tracking Memory Evolution" in listed.stdout


def test_day_with_more_papers_than_one_page_is_read_page_by_page(project, httpserver, run):
    add_hf(project, httpserver, page_size=20)
    serve_api(httpserver, DAY, "api_2026-06-12_limit20_p0.json", limit=20, page=0)
    serve_api(httpserver, DAY, "api_2026-06-12_limit20_p1.json", limit=20, page=1)
    result = run("fetch", "--source", "huggingface", "--date", DAY)
    assert result.exit_code == 0, result.stderr
    assert requested(httpserver) == [f"/api/daily_papers?date={DAY}&limit=20&p=0",
                                     f"/api/daily_papers?date={DAY}&limit=20&p=1"]
    assert project.rows("select count(*) n from items where day = ?", (DAY,))[0]["n"] == 30


def test_full_last_page_is_followed_by_the_empty_page_past_the_end(project, httpserver, run):
    add_hf(project, httpserver, page_size=20)
    serve_api(httpserver, "2026-06-11", "api_2026-06-11_limit20_p0.json", limit=20, page=0)
    serve_api(httpserver, "2026-06-11", "api_2026-06-11_limit20_p1.json", limit=20, page=1)
    result = run("fetch", "--source", "huggingface", "--date", "2026-06-11")
    assert result.exit_code == 0, result.stderr
    assert len(requested(httpserver)) == 2
    rows = project.rows("select guid, day from items")
    assert len(rows) == 20 and {row["day"] for row in rows} == {"2026-06-11"}
    assert "2606.50467" in {row["guid"] for row in rows}  # 2606.00467 under another id


def test_server_that_ignores_the_page_parameter_is_not_paged_forever(project, httpserver, run):
    add_hf(project, httpserver, page_size=20)
    httpserver.expect_request("/api/daily_papers").respond_with_data(
        read_data("hf/api_2026-06-12_limit20_p0.json"), content_type=API_JSON)
    result = run("fetch", "--source", "huggingface", "--date", DAY)
    assert result.exit_code == 0, result.stderr
    assert len(requested(httpserver)) == 2  # the second page brought nothing new
    assert project.rows("select count(*) n from items")[0]["n"] == 20


def test_day_without_papers_is_a_normal_empty_answer(project, httpserver, run):
    add_hf(project, httpserver)
    serve_api(httpserver, "2026-06-13", "api_2026-06-13.json")
    result = run("fetch", "--source", "huggingface", "--date", "2026-06-13")
    assert result.exit_code == 0, result.stderr
    assert "huggingface: 0 items" in result.stdout
    assert requested(httpserver) == ["/api/daily_papers?date=2026-06-13&limit=50&p=0"]  # no fallback
    status = run("sources")
    assert "last error" not in status.stdout
    assert "2026-06-13: API, 0 papers" in status.stdout
    digest = run("digest", "--date", "2026-06-13", "--out", "-")
    assert "2026-06-13: 새로 수집된 소식이 없는 조용한 날입니다." in digest.stdout


def serve_yesterday(httpserver) -> tuple[date, date]:
    """Serve the 30 recorded papers as listed yesterday in Seoul; return (today, yesterday)."""
    today = datetime.now(ZoneInfo("Asia/Seoul")).date()
    yesterday = today - timedelta(days=1)
    listed_yesterday = read_data("hf/api_2026-06-12.json").replace(
        b'"submittedOnDailyAt":"2026-06-12', f'"submittedOnDailyAt":"{yesterday}'.encode())
    httpserver.expect_request("/api/daily_papers", query_string={"date": str(yesterday), "limit": "50", "p": "0"}
                              ).respond_with_data(listed_yesterday, content_type=API_JSON)
    return today, yesterday


def test_cycle_without_date_fetches_yesterday_and_today(project, httpserver, run):
    add_hf(project, httpserver)
    today, yesterday = serve_yesterday(httpserver)
    serve_api(httpserver, str(today), "api_2026-06-13.json")
    result = run("fetch")
    assert result.exit_code == 0, result.stderr
    assert requested(httpserver) == [f"/api/daily_papers?date={yesterday}&limit=50&p=0",
                                     f"/api/daily_papers?date={today}&limit=50&p=0"]
    assert project.rows("select count(*) n from items where day = ?", (str(yesterday),))[0]["n"] == 30


def test_a_day_that_fails_is_noted_and_the_other_day_still_stored(project, httpserver, run):
    # Early in the Korean morning "today" may not exist on HF yet: yesterday must still land.
    add_hf(project, httpserver)
    today, yesterday = serve_yesterday(httpserver)
    httpserver.expect_request("/api/daily_papers").respond_with_data('{"error": "bad date"}', status=400)
    httpserver.expect_request(f"/papers/date/{today}").respond_with_data("not found", status=404)
    result = run("fetch")
    assert result.exit_code == 0, result.stderr
    assert f"note: {today}: not read: " in result.stderr and f"date={today}" in result.stderr
    assert project.rows("select count(*) n from items where day = ?", (str(yesterday),))[0]["n"] == 30


@pytest.mark.parametrize("broken", ["status 500", "api_wrong_shape.json", "api_truncated.json", "status 429"])
def test_api_failure_or_shape_change_falls_back_to_the_papers_page(project, httpserver, run, broken):
    add_hf(project, httpserver)
    if broken.startswith("status"):
        fail_api(httpserver, int(broken.split()[1]))
    else:
        serve_api(httpserver, DAY, broken)
    serve_page(httpserver, DAY, "papers_date_2026-06-12.html")
    result = run("-v", "fetch", "--source", "huggingface", "--date", DAY)
    assert result.exit_code == 0, result.stderr
    assert "trendbot: huggingface: warning: 2026-06-12: the API failed (" in result.stderr
    assert "30 papers read from the HTML fallback" in result.stderr
    assert requested(httpserver)[-1] == f"/papers/date/{DAY}"
    assert project.rows("select count(*) n from items where day = ?", (DAY,))[0]["n"] == 30
    assert "2026-06-12: HTML fallback (API: " in run("sources").stdout


def test_fallback_and_api_store_the_same_rows(project, httpserver, run):
    add_hf(project, httpserver)
    fail_api(httpserver)
    serve_page(httpserver, DAY, "papers_date_2026-06-12.html")
    assert run("fetch", "--source", "huggingface", "--date", DAY).exit_code == 0
    from_page = project.rows("select id, title, text, summary, day, popularity, links, extra from items order by id")
    httpserver.clear()
    serve_api(httpserver, DAY, "api_2026-06-12.json")
    result = run("fetch", "--source", "huggingface", "--date", DAY)
    assert "huggingface: 30 items (0 new, 0 updated)" in result.stdout
    assert project.rows("select id, title, text, summary, day, popularity, links, extra from items order by id") == from_page


def test_both_paths_failing_fails_the_source_and_spares_the_others(project, httpserver, run):
    add_hf(project, httpserver)
    fail_api(httpserver)
    serve_page(httpserver, DAY, "not_a_listing.html")
    add_hf(project, httpserver, name="hf-mirror", prefix="/mirror")  # base_url with a path prefix
    serve_api(httpserver, DAY, "api_2026-06-12.json", prefix="/mirror")
    result = run("fetch", "--date", DAY)
    assert result.exit_code == 1
    failure = next(line for line in result.stderr.splitlines() if line.startswith("trendbot: huggingface failed"))
    assert f"/api/daily_papers?date={DAY}&limit=50&p=0: HTTP 500 Internal Server Error" in failure
    assert len(failure.split(" failed: ", 1)[1]) <= 200 and failure.endswith("(trendbot sources shows it whole)")
    assert f"HTML fallback {httpserver.url_for('/papers/date/' + DAY)}: no div" in run("sources").stdout
    assert "hf-mirror: 30 items (30 new, 0 updated)" in result.stdout
    assert project.rows("select count(*) n from items where source = 'hf-mirror'")[0]["n"] == 30
    assert project.rows("select count(*) n from items where source = 'huggingface'")[0]["n"] == 0
    status = run("sources").stdout
    block = status[status.index("huggingface  [hf_papers"):]
    assert "last error" in block and "HTTP 500" in block and "HTML fallback" in block


def test_changed_upvotes_update_the_row_in_place(project, httpserver, run):
    add_hf(project, httpserver)
    serve_api(httpserver, DAY, "api_2026-06-12.json")
    assert run("fetch", "--source", "huggingface", "--date", DAY).exit_code == 0
    httpserver.clear()
    serve_api(httpserver, DAY, "api_2026-06-12_later.json")
    result = run("fetch", "--source", "huggingface", "--date", DAY)
    assert "huggingface: 30 items (0 new, 2 updated)" in result.stdout
    rows = project.rows("select popularity from items where guid = '2606.13681'")
    assert len(rows) == 1
    assert json.loads(rows[0]["popularity"]) == {"upvotes": 131, "comments": 5, "stars": 9}
    assert project.rows("select count(*) n from items")[0]["n"] == 30


def test_digest_ranks_the_days_papers_by_upvotes(project, httpserver, run):
    add_hf(project, httpserver)
    serve_api(httpserver, DAY, "api_2026-06-12.json")
    assert run("fetch", "--source", "huggingface", "--date", DAY).exit_code == 0
    result = run("digest", "--date", DAY, "--out", "-")
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("- ")]
    assert len(lines) == 15  # [digest] limit
    assert [line.split("](", 1)[1].split(")", 1)[0] for line in lines[:4]] == [
        "https://huggingface.co/papers/2606.13681", "https://huggingface.co/papers/2606.13392",
        "https://huggingface.co/papers/2606.08063", "https://huggingface.co/papers/2606.13289"]
    assert lines[0].startswith("- [EvoArena: Tracking Memory Evolution for Robust LLM Agents in Dynamic Environments]"
                               "(https://huggingface.co/papers/2606.13681) — EvoArena benchmark and EvoMem memory")
    assert lines[0].endswith(" · HF ▲118")
    assert lines[1].startswith("- [MiniMax Sparse Attention](https://huggingface.co/papers/2606.13392) — "
                               "MiniMax Sparse Attention enables efficient processing")
    assert lines[1].endswith(" · HF ▲103")


def test_items_json_shows_the_organization_and_the_thumbnail(project, httpserver, run):
    add_hf(project, httpserver)
    serve_api(httpserver, DAY, "api_2026-06-12.json")
    assert run("fetch", "--source", "huggingface", "--date", DAY).exit_code == 0
    shown = {item["url"]: item for item in json.loads(run("items", "--date", DAY, "--json").stdout)}
    top = shown["https://huggingface.co/papers/2606.13681"]
    assert top["organization"] == "Massachusetts Institute of Technology"
    assert top["thumbnail"] == "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2606.13681.png"
    assert "organization" not in shown["https://huggingface.co/papers/2606.12730"]


def test_a_paper_withdrawn_after_it_was_stored_leaves_the_digest(project, httpserver, run):
    add_hf(project, httpserver)
    serve_api(httpserver, DAY, "api_2026-06-12.json")
    assert run("fetch", "--source", "huggingface", "--date", DAY).exit_code == 0
    before = run("digest", "--date", DAY, "--out", "-").stdout
    assert "(https://huggingface.co/papers/2606.13681)" in before
    httpserver.clear()
    serve_api(httpserver, DAY, "api_2026-06-12_withdrawn.json")
    result = run("fetch", "--source", "huggingface", "--date", DAY)
    assert "huggingface: 30 items (0 new, 1 updated)" in result.stdout
    after = run("digest", "--date", DAY, "--out", "-").stdout
    assert "2606.13681" not in after and "EvoArena" not in after
    lines = [line for line in after.splitlines() if line.startswith("- ")]
    assert len(lines) == 15 and lines[0].startswith("- [MiniMax Sparse Attention](https://huggingface.co/papers/2606.13392)")
    [kept] = [i for i in json.loads(run("items", "--date", DAY, "--json").stdout) if "2606.13681" in i["url"]]
    assert kept["withdrawn_at"] == "2026-06-12T15:04:05+00:00"   # stored, shown as withdrawn, not listed


def test_a_2024_answer_and_float_counts_through_the_cli(project, httpserver, run):
    add_hf(project, httpserver)
    serve_api(httpserver, "2024-10-25", "api_2024-10-25_first3.json")
    serve_api(httpserver, DAY, "api_2026-06-12_floats.json")
    assert run("fetch", "--source", "huggingface", "--date", "2024-10-25").exit_code == 0
    assert run("fetch", "--source", "huggingface", "--date", DAY).exit_code == 0
    old = [line for line in run("digest", "--date", "2024-10-25", "--out", "-").stdout.splitlines()
           if line.startswith("- ")]
    assert len(old) == 3
    assert old[0].startswith("- [Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss]"
                             "(https://huggingface.co/papers/2410.17243)")
    assert old[0].endswith(" · HF ▲64")
    new = [line for line in run("digest", "--date", DAY, "--out", "-").stdout.splitlines() if line.startswith("- ")]
    assert new[0].endswith(" · HF ▲118") and new[1].endswith(" · HF ▲103")
    rows = project.rows("select popularity from items where guid = '2606.13681'")
    assert json.loads(rows[0]["popularity"]) == {"upvotes": 118, "comments": 3, "stars": 9}


def test_bad_source_key_is_a_configuration_error(project, run):
    project.add_source("huggingface", kind="hf_papers", page_size=500)
    result = run("fetch")
    assert result.exit_code == 2
    assert "sources/huggingface.toml: page_size:" in result.stderr


def test_default_template_loads(project, run):
    from importlib import resources

    template = resources.files("trendbot") / "templates" / "sources" / "huggingface.toml"
    (project.root / "sources" / "huggingface.toml").write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    result = run("sources", "--json")
    assert result.exit_code == 0, result.stderr
    [source] = json.loads(result.stdout)
    assert source["kind"] == "hf_papers"
