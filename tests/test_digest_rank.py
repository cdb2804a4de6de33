"""Ranking and story lines: the day's stories, each once, trending first, mentions on one line."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from test_merge import NOW, PAPER, PAPER_TOPIC, PAPER_TWEET, gn_item, hf_item, store_items, x_item
from trendbot.models import Item
from trendbot.store import Store


def section(project, run, items, **digest):
    if digest:
        project.write_config(digest=digest)
    with Store(project.db_path) as store:
        store_items(store, items)
    result = run("digest", "--date", "2026-06-12", "--out", "-")
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line.startswith("- ")]


def test_paper_story_links_the_paper_page_with_x_and_gn_mentions(project, run):
    lines = section(project, run, [hf_item(PAPER), PAPER_TWEET, PAPER_TOPIC])
    assert lines == [
        "- [On the Limits of LLM Adaptability: Impact of Model-Internalized Priors on Annotation Task Performance]"
        "(https://huggingface.co/papers/2606.00467) — Large language models exhibit limited ability to correct "
        "zero-shot errors through prompting, with model performance more strongly linked to definition-specific "
        "familiarity than text-level memorization metrics. · HF ▲0 · [GN](https://news.hada.io/topic?id=34489)"
        " · [X](https://x.com/_akhaliq/status/1800000000000000467)"
    ]
    assert lines[0].startswith("- [On the Limits of LLM Adaptability")
    assert "(https://huggingface.co/papers/2606.00467) — Large language models exhibit" in lines[0]


def test_mentions_by_other_sources_outrank_raw_upvotes(project, run):
    # 2606.00467 has 0 upvotes but three sources; 2606.13681 has the day's most upvotes alone
    lines = section(project, run, [hf_item(PAPER), PAPER_TWEET, PAPER_TOPIC, hf_item("2606.13681"),
                                   hf_item("2606.13392"), hf_item("2606.12730")])
    urls = [line.split("](", 1)[1].split(")", 1)[0] for line in lines]
    # score: 0 + 2 × 0.5 = 1.0 ties 118/118 = 1.0, and the three-source story is more recent
    assert urls == ["https://huggingface.co/papers/2606.00467", "https://huggingface.co/papers/2606.13681",
                    "https://huggingface.co/papers/2606.13392", "https://huggingface.co/papers/2606.12730"]
    assert lines[1].endswith(" · HF ▲118")
    assert sum("2606.00467" in line for line in lines) == 1  # one story, once


def test_news_links_the_topic_and_x_only_stories_link_the_post(project, run):
    blog = "https://blog.example.com/agents"
    lines = section(project, run, [
        gn_item(34490, "에이전트의 기억을 다루는 새 방법", blog, "에이전트 메모리를 정리한 글임."),
        x_item("1800000000000000900", "Read this on agents and memory", [blog + "?utm_source=twitter"],
               user="curator"),
        x_item("1800000000000000901", "a post with no link at all", [], user="curator"),
    ])
    assert lines[0].startswith("- [에이전트의 기억을 다루는 새 방법](https://news.hada.io/topic?id=34490) — "
                               "에이전트 메모리를 정리한 글임. · GN 12p 💬3")
    assert lines[0].endswith(" · [X](https://x.com/curator/status/1800000000000000900)")
    assert lines[1].startswith("- [a post with no link at all](https://x.com/curator/status/1800000000000000901)")
    assert lines[1].endswith(" · X @curator")


def test_the_article_itself_leads_when_a_feed_carried_it(project, run):
    article = Item(source="hf-blog", kind="feed", url="https://huggingface.co/blog/agents-memory",
                   title="Agents and memory", text="A long post about memory for agents.", published_at=NOW)
    topic = gn_item(34491, "에이전트와 메모리", "https://huggingface.co/blog/agents-memory")
    lines = section(project, run, [article, topic])
    assert lines == ["- [Agents and memory](https://huggingface.co/blog/agents-memory) — A long post about memory "
                     "for agents. · hf-blog · [GN](https://news.hada.io/topic?id=34491)"]


def test_limit_and_per_source_quota(project, run):
    papers = ["2606.13681", "2606.13392", "2606.08063", "2606.13289", "2606.12730"]
    news = [gn_item(34500 + n, f"뉴스 {n}번 제목입니다", f"https://news.example.com/{n}",
                    popularity={"points": 50 - n}, published_at=NOW - timedelta(minutes=n)) for n in range(4)]
    project.add_source("geeknews", kind="geeknews")  # per_source names a configured source
    lines = section(project, run, [hf_item(p) for p in papers] + news, limit=5, per_source={"geeknews": 3})
    urls = [line.split("](", 1)[1].split(")", 1)[0] for line in lines]
    # GN 50/50 and HF 118/118 tie at 1.0 (the more recent first), then GN 49/50, 48/50; the fourth
    # topic (47/50) is over the quota, so HF 103/118 takes the last place
    assert urls == ["https://news.hada.io/topic?id=34500", "https://huggingface.co/papers/2606.13681",
                    "https://news.hada.io/topic?id=34501", "https://news.hada.io/topic?id=34502",
                    "https://huggingface.co/papers/2606.13392"]


def test_a_mention_from_the_next_day_counts_and_shows(project, run):
    late_topic = PAPER_TOPIC.model_copy(update={"published_at": datetime(2026, 6, 13, 1, tzinfo=timezone.utc)})
    lines = section(project, run, [hf_item(PAPER), late_topic])
    assert lines[0].endswith(" · HF ▲0 · [GN](https://news.hada.io/topic?id=34489)")


def test_the_week_ranks_each_story_once_by_its_best_day_plus_its_days_and_sources(project, run):
    # Monday 2026-06-08 .. Sunday 06-14. The paper with 0 upvotes is on HF on Monday, then on
    # GeekNews and X on Thursday: one story, two days, three sources.
    monday, thursday = date(2026, 6, 8), date(2026, 6, 11)
    items = [hf_item(PAPER, day=monday), hf_item("2606.13681", day=monday), hf_item("2606.12730", day=thursday),
             PAPER_TOPIC.model_copy(update={"day": thursday}), PAPER_TWEET.model_copy(update={"day": thursday})]
    with Store(project.db_path) as store:
        store_items(store, items)
    result = run("digest", "--week", "2026-06-10", "--out", "-")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("- ")]
    urls = [line.split("](", 1)[1].split(")", 1)[0] for line in lines]
    # best day 0/118 + 2 more sources × 0.5 + 1 more day × 0.5 = 1.5 > 118/118 = 1.0 > 5/5 = 1.0 (older)
    assert urls == ["https://huggingface.co/papers/2606.00467", "https://huggingface.co/papers/2606.13681",
                    "https://huggingface.co/papers/2606.12730"]
    assert " · 2일(월·목) · " in lines[0] and " · 1일(월) · " in lines[1] and " · 1일(목) · " in lines[2]
    # the story's line holds the week: the paper leads, GeekNews and X are its mentions
    assert lines[0].startswith("- [On the Limits of LLM Adaptability")
    assert "[GN](https://news.hada.io/topic?id=34489)" in lines[0] and "[X](https://x.com/" in lines[0]
