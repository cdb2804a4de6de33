"""`trendbot init`'s GeekNews source keeps to AI: GeekNews is a general tech site, and the
section is about AI. The real feed of 2026-09-29 (tests/data/geeknews/) is served by a local
server; `init` writes the sources, only the GeekNews file's address is pointed at the server."""

from __future__ import annotations

from conftest import read_data

OFF_TOPIC = ["미국 전략비축유, 1982년 이후 최저 수준으로 감소", "와인 수요 감소로 포도 판매에 어려움을 겪는 캘리포니아 농가",
             "Regression Testing: Techniques, Tools & Best Practices", "Lisp는 왜 읽기 어려울까?",
             "Show GN: Relio ERD - 브라우저에서 테이블과 관계를 설계하는 ERD 편집기", "PS5의 RTMP 스트림 가로채기"]
ON_TOPIC = ["AI 기업들이 광고업체에 데이터를 유출함 [pdf]", "Claude Sonnet 5.5 출시", "Pluto - SOTA 스타크래프트 AI",
            "RAG 인덱스와 에이전트 메모리를 Git처럼 버전 관리하기 (LambdaDB)", "cf - Cloudflare API를 위한 에이전트형 CLI",
            "MicroLLM Lab - 브라우저에서 초소형 LLM 7개 체험하기", "Show GN: OVERFIT - 딥러닝 기반 2D 횡스크롤 소울라이크"]


def test_init_geeknews_source_keeps_only_the_ai_topics_of_a_real_feed(project, run, httpserver):
    httpserver.expect_request("/rss/news").respond_with_data(read_data("geeknews/rss_news_2026-09-29.xml"),
                                                             content_type="application/atom+xml")
    assert run("init").exit_code == 0
    source = project.root / "sources" / "geeknews.toml"
    written = source.read_text(encoding="utf-8")
    assert "include = [" in written
    source.write_text(written.replace('"https://news.hada.io"', f'"{httpserver.url_for("/").rstrip("/")}"')
                      .replace('request_interval = "1s"', 'request_interval = "0s"')
                      .replace("max_enrich = 20", "max_enrich = 0"), encoding="utf-8")

    result = run("fetch", "--source", "geeknews")
    assert result.exit_code == 0, result.output
    kept = {row["title"] for row in project.rows("select title from items where source = 'geeknews'")}
    assert "geeknews: 23 items (23 new, 0 updated; 27 left out by include)" in result.stdout  # of 50 topics
    assert len(kept) == 23
    assert set(ON_TOPIC) <= kept
    assert not set(OFF_TOPIC) & kept

    digest = run("digest", "--date", "2026-09-29", "--out", "-")
    assert digest.exit_code == 0, digest.output
    assert "전략비축유" not in digest.stdout and "와인 수요" not in digest.stdout
