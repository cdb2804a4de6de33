"""The `feed` parser on recorded documents: pure bytes in, items out."""

from datetime import datetime, timezone

import pytest

from trendbot.errors import ParseError
from trendbot.kinds.feed import parse_feed
from conftest import read_data


def parse(name: str, **kwargs):
    parsed = parse_feed(read_data(f"feeds/{name}"), source="src", feed_url="https://feeds.example.com/feed", **kwargs)
    assert parsed.warning is None, parsed.warning
    return parsed.items


def test_geeknews_atom_sample_gives_every_entry_with_korean_text():
    items = parse("geeknews_atom_2026-09-29.xml")
    assert len(items) == 50
    first = items[0]
    assert first.title == "AI 기업들이 광고업체에 데이터를 유출함 [pdf]"
    assert first.url == "https://news.hada.io/topic?id=34489"
    assert first.guid == "https://news.hada.io/topic?id=34489"
    assert first.author == "neo"
    assert first.published_at == datetime(2026, 9, 29, 12, 32, 57, tzinfo=timezone.utc)
    assert first.text.startswith("대화형 AI 서비스 9개의 웹 클라이언트와 8개의 Android 앱을 분석한 결과")
    assert "<" not in first.text


def test_entities_in_titles_are_decoded_once():
    titles = [item.title for item in parse("geeknews_atom_2026-09-29.xml")]
    assert "Regression Testing: Techniques, Tools & Best Practices" in titles
    assert not any("&amp;" in title or "&quot;" in title or "&#039;" in title for title in titles)


def test_atom_outbound_links_and_plain_summary():
    items = parse("simple_atom.xml")
    assert [item.title for item in items] == ["Scaling laws for tiny models", "A second note"]
    assert items[0].links == ["https://arxiv.org/abs/2606.00467v2"]
    assert items[0].author == "Kim"
    assert items[1].text == "Plain text summary. More text."


def test_non_http_links_are_dropped_and_hostile_titles_kept_as_text():
    items = parse("hostile_rss.xml")
    assert [item.guid for item in items] == ["post-1", "post-2", "post-0"]
    assert items[1].title == "<script>alert(1)</script> and {{ site.title }} {% raw %}"
    assert items[0].text == "First sentence with [brackets](javascript:alert(1)). Second sentence."


def test_declared_non_utf8_encoding_is_decoded():
    items = parse("euc_kr_rss.xml")
    assert items[0].title == "인공지능 소식"
    assert items[0].text == "새 모델이 나왔습니다."


def test_html_page_is_not_a_feed():
    with pytest.raises(ParseError, match="not a feed"):
        parse("not_a_feed.html", content_type="text/html")


def test_same_entry_gives_same_key_and_changed_title_changes_hash():
    a = parse("simple_atom.xml")[0]
    b = parse("simple_atom_retitled.xml")[0]
    assert a.key == b.key
    assert a.content_hash() != b.content_hash()
    assert parse("simple_atom.xml")[0].content_hash() == a.content_hash()


def test_json_feed_items():
    items = parse("json_feed.json", content_type="application/feed+json")
    assert [item.guid for item in items] == ["urn:lab-notes:json-1", "urn:lab-notes:json-3"]
    first, second = items
    assert first.title == "A &amp; B are literal here"
    assert first.author == "Lee"
    assert first.published_at == datetime(2026, 11, 20, 0, 0, tzinfo=timezone.utc)
    assert first.links == ["https://arxiv.org/pdf/2606.00467v1"]
    assert first.text == "We read the paper. Then more."
    assert second.text == "Text with <tags> kept as text. Second."
    assert second.published_at is None


def test_json_that_is_not_a_json_feed_is_refused():
    with pytest.raises(ParseError, match="jsonfeed.org"):
        parse_feed(b'{"hello": "world"}', source="s", feed_url="https://feeds.example.com/f.json")
