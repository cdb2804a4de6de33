"""The `hf_trending` kind: the real trending-models answer (`tests/data/hf_trending/`) parsed
directly, then fetched through the real CLI from a local server."""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from werkzeug import Response

from conftest import assert_told_to_wait, conditional, read_data
from trendbot.errors import ParseError
from trendbot.kinds.hf_trending import parse_listing, reupload_of
from trendbot.store import Store
from trendbot.stories import merge_into_store

JSON = "application/json; charset=utf-8"
MODELS = "hf_trending/models_trending_2026-08-02.json"
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 8, 2, 3, 0, tzinfo=timezone.utc)


def parse(name: str = MODELS, what: str = "models", **kw):
    return parse_listing(read_data(name), source="trending", what=what, url="http://hf.test/api/models", **kw)


def by_title(items):
    return {item.title: item for item in items}


def serve(server, what: str, name: str | None = MODELS, limit: int = 20, **response) -> None:
    answer = Response(read_data(name), content_type=JSON) if name else Response(**response)
    server.expect_request(f"/hf/api/{what}", query_string={"sort": "trendingScore", "limit": str(limit)}
                          ).respond_with_response(answer)


def add_source(project, server, **keys) -> None:
    project.add_source("trending", kind="hf_trending", base_url=server.url_for("/hf").rstrip("/"), **keys)


def stored(project) -> dict[str, dict]:
    return {row["title"]: row for row in project.items("trending")}


# -- parsing the recorded answer -------------------------------------------------------------

def test_every_trending_model_becomes_an_item_linked_to_its_page():
    items = parse()
    assert len(items) == 15
    kimi = items[0]
    assert kimi.title == "moonshotai/Kimi-K3"
    assert kimi.url == "https://huggingface.co/moonshotai/Kimi-K3"
    assert kimi.guid == "models/6a2cfbf15c4b5ce712d08eb6"
    assert kimi.author == "moonshotai"
    assert kimi.popularity == {"likes": 9624, "trending": 8300, "downloads": 837202}
    assert kimi.links == []
    assert kimi.extra["pipeline_tag"] == "image-text-to-text" and kimi.extra["createdAt"] == "2026-06-13T06:42:57.000Z"
    # the repository's creation is not when it started trending: the item has no published time
    assert all(item.published_at is None and item.day is None for item in items)


def test_arxiv_tags_become_paper_links():
    models = by_title(parse())
    assert models["deepseek-ai/DeepSeek-V4-Flash-0731"].links == ["https://arxiv.org/abs/2606.19348"]
    assert models["zai-org/GLM-5.2"].links == ["https://arxiv.org/abs/2602.15763", "https://arxiv.org/abs/2603.12201"]
    assert models["zai-org/GLM-5.2"].extra["arxiv_ids"] == ["2602.15763", "2603.12201"]
    assert models["poolside/Laguna-S-2.1"].links == []


def test_spaces_and_datasets_link_to_their_own_pages():
    assert parse(what="spaces")[0].url == "https://huggingface.co/spaces/moonshotai/Kimi-K3"
    assert parse(what="datasets")[0].url == "https://huggingface.co/datasets/moonshotai/Kimi-K3"
    assert parse(what="spaces")[0].extra["repo_type"] == "space"


def test_a_list_longer_than_the_limit_is_cut():
    titles = [item.title for item in parse(limit=3)]
    assert titles == ["moonshotai/Kimi-K3", "deepseek-ai/DeepSeek-V4-Flash-0731",
                      "DavidAU/Qwen3.6-27B-Fable-Fusion-711-Uncensored-Heretic-NM-DAU-NEO-MAX-MTP-GGUF"]


def test_an_empty_list_is_quiet_and_other_shapes_are_parse_errors():
    assert parse_listing(b"[]", source="t", what="models", url="u") == []
    with pytest.raises(ParseError, match="none of the 30 entries has a repository id"):
        parse("hf/api_2026-06-12.json")  # the Daily Papers answer: a list, but of papers
    with pytest.raises(ParseError, match="expected a list of repositories, got dict"):
        parse("hf/api_wrong_shape.json")
    with pytest.raises(ParseError, match="not valid JSON"):
        parse("hf/not_a_listing.html")


# -- fetching from a local server -------------------------------------------------------------

def test_fetch_stores_the_trending_models(project, run, httpserver):
    serve(httpserver, "models")
    add_source(project, httpserver)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "trending: 15 items (15 new, 0 updated)" in result.stdout
    rows = stored(project)
    assert rows["microsoft/Mage-VL"]["url"] == "https://huggingface.co/microsoft/Mage-VL"
    assert rows["microsoft/Mage-VL"]["popularity"] == {"likes": 182, "trending": 169, "downloads": 272148}
    assert rows["microsoft/Mage-VL"]["published_at"] is None
    assert [request.full_path for request, _ in httpserver.log] == ["/hf/api/models?sort=trendingScore&limit=20"]


def test_limit_is_asked_for_and_a_server_that_ignores_it_is_cut(project, run, httpserver):
    serve(httpserver, "models", limit=5)
    add_source(project, httpserver, limit=5)
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert len(stored(project)) == 5
    assert "moonshotai/Kimi-K3" in stored(project) and "poolside/Laguna-S-2.1" not in stored(project)


def test_the_list_is_fetched_with_a_conditional_get(project, run, httpserver):
    etag = '"models-1"'
    httpserver.expect_request("/hf/api/models").respond_with_handler(conditional(MODELS, JSON, etag))
    add_source(project, httpserver)
    assert run("fetch").exit_code == 0
    again = run("fetch")
    assert again.exit_code == 0, again.output
    assert "trending: not modified" in again.stdout
    assert [request.headers.get("If-None-Match") for request, _ in httpserver.log] == [None, etag]
    assert len(stored(project)) == 15


def test_later_likes_update_the_rows_in_place(project, run, httpserver):
    serve(httpserver, "models")
    add_source(project, httpserver)
    assert run("fetch").exit_code == 0
    first = stored(project)
    httpserver.clear()
    serve(httpserver, "models", "hf_trending/models_trending_2026-08-02_later.json")
    result = run("fetch")
    assert "trending: 15 items (0 new, 2 updated)" in result.stdout
    later = stored(project)
    assert later["moonshotai/Kimi-K3"]["popularity"]["likes"] == 9835
    assert later["moonshotai/Kimi-K3"]["id"] == first["moonshotai/Kimi-K3"]["id"]
    assert later["moonshotai/Kimi-K3"]["first_seen_at"] == first["moonshotai/Kimi-K3"]["first_seen_at"]


def test_spaces_are_read_too_and_a_failing_list_keeps_the_others(project, run, httpserver):
    serve(httpserver, "models")
    serve(httpserver, "spaces", None, response="down", status=500)
    add_source(project, httpserver, what=["models", "spaces"])
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "trending: 15 items" in result.stdout
    assert ": not read: " in result.stderr
    assert "/hf/api/spaces?sort=trendingScore&limit=20: HTTP 500" in result.stderr
    httpserver.clear()
    serve(httpserver, "models")
    serve(httpserver, "spaces")
    assert run("fetch").exit_code == 0
    urls = {row["url"] for row in project.rows("select url from items")}
    assert {"https://huggingface.co/microsoft/Mage-VL", "https://huggingface.co/spaces/microsoft/Mage-VL"} <= urls
    assert len(urls) == 30


def test_hf_asking_to_slow_down_fails_the_source_until_the_time_it_gave(project, run, httpserver):
    serve(httpserver, "models", None, response="slow down", status=429, headers={"Retry-After": "600"})
    add_source(project, httpserver)
    assert_told_to_wait(run, run("fetch"), "trending", "/hf/api/models?sort=trendingScore&limit=20")
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("name", ["hf/api_2026-06-12.json", "hf/not_a_listing.html"])
def test_an_answer_of_another_shape_fails_the_source_naming_the_url(project, run, httpserver, name):
    serve(httpserver, "models", name)
    add_source(project, httpserver)
    result = run("fetch")
    assert result.exit_code == 1
    states = {row["name"]: row for row in json.loads(run("sources", "--json").stdout)}
    assert "/hf/api/models?sort=trendingScore&limit=20" in states["trending"]["last_error"]
    assert project.rows("select count(*) n from items") == [{"n": 0}]


def test_default_source_file_reads_trending_models():
    from pathlib import Path

    from trendbot.kinds import load_source

    source = load_source(Path(__file__).parent.parent / "trendbot" / "templates" / "sources" / "hf-trending.toml")
    assert (source.kind, source.enabled, source.base_url, source.what) == (
        "hf_trending", True, "https://huggingface.co", ["models"])


# -- days, the digest line and stories ---------------------------------------------------------

def test_a_model_belongs_to_the_day_it_first_entered_the_list(project):
    """Trending lists have no dates: a model stays on the day trendbot first saw it in the list,
    however often it is seen again; one entering the list later belongs to that later day."""
    day_one = datetime(2026, 8, 2, 3, 0, tzinfo=timezone.utc)
    models = parse()
    later = by_title(parse("hf_trending/models_trending_2026-08-02_later.json"))
    with Store(project.db_path) as store:
        store.upsert_items(models[:10], day_one, SEOUL)
        result = store.upsert_items(list(later.values()), day_one + timedelta(days=1), SEOUL)
        assert (result.new, result.updated) == (5, 2)
        first_day = {row.title for row in store.items_of_day(date(2026, 8, 2))}
        second_day = {row.title for row in store.items_of_day(date(2026, 8, 3))}
    assert first_day == {model.title for model in models[:10]}
    assert second_day == {model.title for model in models[10:]}
    kimi = project.rows("select popularity from items where title = 'moonshotai/Kimi-K3'")
    assert json.loads(kimi[0]["popularity"])["likes"] == 9835


def test_digest_line_shows_the_likes(project, run, httpserver):
    serve(httpserver, "models")
    add_source(project, httpserver)
    assert run("fetch").exit_code == 0
    day = project.rows("select day from items limit 1")[0]["day"]
    result = run("digest", "--date", day, "--out", "-")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("- ")]
    # the two Unsloth re-uploads of Kimi-K3 are in its line, not lines of their own
    assert lines[0] == ("- [moonshotai/Kimi-K3](https://huggingface.co/moonshotai/Kimi-K3) · 🤗 ♥9.6k"
                        " · [unsloth GGUF](https://huggingface.co/unsloth/Kimi-K3-GGUF)"
                        " · [unsloth quant](https://huggingface.co/unsloth/Kimi-K3)")
    assert "- [microsoft/Mage-VL](https://huggingface.co/microsoft/Mage-VL) · 🤗 ♥182" in lines
    assert not [line for line in lines if line.startswith(("- [unsloth/Kimi-K3", "- [unsloth/DeepSeek"))]
    assert len(lines) == 12  # 15 models, three of them re-uploads of a model in the list


def test_a_trending_model_citing_a_paper_joins_the_papers_story(project, run, httpserver):
    httpserver.expect_request("/hf/api/daily_papers").respond_with_data(read_data("hf/api_2026-06-12.json"),
                                                                        content_type=JSON)
    serve(httpserver, "models", "hf_trending/models_trending_cites_2606.13392.json")
    project.add_source("papers", kind="hf_papers", base_url=httpserver.url_for("/hf").rstrip("/"))
    add_source(project, httpserver)
    assert run("fetch", "--source", "papers", "--date", "2026-06-12").exit_code == 0
    assert run("fetch", "--source", "trending").exit_code == 0
    day = project.rows("select day from items where source = 'trending' limit 1")[0]["day"]
    papers = {row["url"]: row for row in json.loads(run("items", "--date", "2026-06-12", "--json").stdout)}
    trending = {row["title"]: row for row in json.loads(run("items", "--date", day, "--json").stdout)}
    paper = papers["https://huggingface.co/papers/2606.13392"]
    model = trending["microsoft/Mage-VL"]
    assert model["story_id"] == paper["story_id"]
    assert model["merge_rule"] == paper["merge_rule"] == "arxiv:2606.13392"
    # a model citing two papers names neither alone, and a model citing none stays alone
    assert trending["zai-org/GLM-5.2"]["merge_rule"] == trending["poolside/Laguna-S-2.1"]["merge_rule"] == "alone"


def test_a_past_day_cannot_be_read_and_says_so(project, run, httpserver):
    serve(httpserver, "models")
    add_source(project, httpserver)
    result = run("fetch", "--date", "2026-06-12")
    assert result.exit_code == 0, result.output
    assert "note: the Hub lists only what is trending now; --date 2026-06-12 reads that" in result.stderr


# -- re-uploads: a quantization or a copy of a model is that model's story ------------------

def trending_stories(project, run, httpserver, name: str = MODELS) -> dict[str, dict]:
    serve(httpserver, "models", name)
    add_source(project, httpserver)
    assert run("fetch").exit_code == 0
    day = project.rows("select day from items limit 1")[0]["day"]
    return {row["title"]: row for row in json.loads(run("items", "--date", day, "--json").stdout)}


def test_quantized_re_uploads_join_their_models_story_and_other_models_stay_apart(project, run, httpserver):
    """The recorded answer as served: `unsloth/Kimi-K3-GGUF` and `unsloth/Kimi-K3` are tagged
    `base_model:quantized:moonshotai/Kimi-K3`, `unsloth/DeepSeek-V4-Flash-0731-GGUF` a
    quantization of DeepSeek's model, `Nanbeige/Nanbeige4.2-3B` a fine-tune of a base that is
    not in the list."""
    models = trending_stories(project, run, httpserver)
    kimi = models["moonshotai/Kimi-K3"]
    assert models["unsloth/Kimi-K3-GGUF"]["story_id"] == models["unsloth/Kimi-K3"]["story_id"] == kimi["story_id"]
    assert models["unsloth/Kimi-K3-GGUF"]["merge_rule"] == "url:https://huggingface.co/moonshotai/Kimi-K3"
    assert models["unsloth/Kimi-K3-GGUF"]["original_url"] == "https://huggingface.co/moonshotai/Kimi-K3"
    deepseek = models["deepseek-ai/DeepSeek-V4-Flash-0731"]
    assert models["unsloth/DeepSeek-V4-Flash-0731-GGUF"]["story_id"] == deepseek["story_id"] != kimi["story_id"]
    # one owner's uploads of two different models are two stories
    assert models["unsloth/DeepSeek-V4-Flash-0731-GGUF"]["story_id"] != models["unsloth/Kimi-K3-GGUF"]["story_id"]
    assert len({row["story_id"] for row in models.values()}) == 12
    for alone in ("Nanbeige/Nanbeige4.2-3B", "DavidAU/Qwen3.6-27B-Fable-Fusion-711-Uncensored-Heretic-NM-DAU-NEO-MAX-MTP-GGUF"):
        assert models[alone]["merge_rule"] == "alone"


def test_a_fine_tune_or_an_adapter_of_a_seen_model_is_its_own_story_a_same_name_copy_is_not(project, run, httpserver):
    models = trending_stories(project, run, httpserver, "hf_trending/models_trending_base_models.json")
    kimi = models["moonshotai/Kimi-K3"]["story_id"]
    assert models["Nanbeige/Nanbeige4.2-3B"]["story_id"] != models["Nanbeige/Nanbeige4.2-3B-Base"]["story_id"]
    assert models["owensong/Inflect-Micro-v2"]["story_id"] != kimi  # an adapter of Kimi-K3
    assert models["unsloth/Kimi-K3"]["story_id"] == kimi            # `base_model:` of its own name
    day = project.rows("select day from items limit 1")[0]["day"]
    lines = run("digest", "--date", day, "--out", "-").stdout.splitlines()
    assert ("- [moonshotai/Kimi-K3](https://huggingface.co/moonshotai/Kimi-K3) · 🤗 ♥9.6k"
            " · [unsloth GGUF](https://huggingface.co/unsloth/Kimi-K3-GGUF)"
            " · [unsloth re-upload](https://huggingface.co/unsloth/Kimi-K3)") in lines


def test_a_re_upload_seen_before_its_model_joins_it_when_the_model_comes():
    models = by_title(parse())
    gguf, base = models["unsloth/Kimi-K3-GGUF"], models["moonshotai/Kimi-K3"]
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "t.db") as store:
        first = store.upsert_items([gguf], NOW, SEOUL)
        merge_into_store(store, first.changed_ids, NOW)
        later = store.upsert_items([base], NOW + timedelta(hours=3), SEOUL)
        merge_into_store(store, later.changed_ids, NOW + timedelta(hours=3))
        rows = store.items_by_id(first.ids + later.ids)
    assert len({row.story_id for row in rows}) == 1


def test_what_a_repository_is_a_copy_of():
    assert reupload_of("unsloth/Kimi-K3-GGUF", ["base_model:quantized:moonshotai/Kimi-K3"]) == ("moonshotai/Kimi-K3", "quant")
    assert reupload_of("someone/Kimi-K3", ["base_model:moonshotai/Kimi-K3"]) == ("moonshotai/Kimi-K3", "re-upload")
    assert reupload_of("someone/Kimi-K3-Coder", ["base_model:moonshotai/Kimi-K3"]) is None  # another name: unknown
    for relation in ("finetune", "adapter", "merge"):
        assert reupload_of("someone/Kimi-K3", ["base_model:moonshotai/Kimi-K3", f"base_model:{relation}:moonshotai/Kimi-K3"]) is None
    assert reupload_of("a/b", "not a list") is None and reupload_of("a/b", ["base_model:a/b"]) is None
