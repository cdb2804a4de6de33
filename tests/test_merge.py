"""Stories: the same thing seen on Hugging Face, X and GeekNews is one story, and only then.

Items are built from the recorded HF API document (`tests/data/stories/`) with the fields the
kinds give them; cross-source tests build the X and GeekNews items directly with real shapes.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import unicodedata
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug import Response

from conftest import read_data
from trendbot.merge import BLOCK_LIMIT, CROWD, MergeItem, keys_of, partition
from trendbot.stories import merge_into_store
from trendbot.models import Item
from trendbot.store import Store
from trendbot.urls import identity_keys

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 6, 12, 9, 0, tzinfo=timezone.utc)
DAY = date(2026, 6, 12)
PAPERS = {entry["paper"]["id"]: entry for entry in json.loads(read_data("stories/hf_api_daily_papers_2026-06-12.json"))}


def hf_item(arxiv_id: str, source: str = "huggingface", **changes) -> Item:
    """An item as the hf_papers kind makes it from the recorded API entry."""
    paper = PAPERS[arxiv_id]["paper"]
    links = [f"https://arxiv.org/abs/{arxiv_id}"] + [paper[k] for k in ("githubRepo", "projectPage") if paper.get(k)]
    fields = dict(source=source, kind="hf_papers", url=f"https://huggingface.co/papers/{arxiv_id}", guid=arxiv_id,
                  title=" ".join(paper["title"].split()), text=" ".join(paper["summary"].split()),
                  summary=paper.get("ai_summary"), day=DAY, popularity={"upvotes": paper["upvotes"]},
                  published_at=datetime(2026, 5, 30, tzinfo=timezone.utc), links=links,
                  extra={"arxiv_id": arxiv_id})
    fields.update(changes)
    return Item(**fields)


def x_item(tweet: str, text: str, links: list[str], user: str = "_akhaliq", source: str = "x", **changes) -> Item:
    fields = dict(source=source, kind="x", url=f"https://x.com/{user}/status/{tweet}", guid=tweet, title=text,
                  text=text, author=f"@{user}", published_at=NOW, links=links)
    fields.update(changes)
    return Item(**fields)


def gn_item(topic: int, title: str, original: str | None, summary: str = "", **changes) -> Item:
    fields = dict(source="geeknews", kind="geeknews", url=f"https://news.hada.io/topic?id={topic}", guid=str(topic),
                  title=title, text=summary, summary=summary or None, author="xguru", published_at=NOW,
                  popularity={"points": 12, "comments": 3}, links=[original] if original else [],
                  extra={"topic_id": topic, **({"original_url": original} if original else {})})
    fields.update(changes)
    return Item(**fields)


PAPER = "2606.00467"
PAPER_TWEET = x_item("1800000000000000467", "On the Limits of LLM Adaptability arxiv.org/pdf/2606.00467",
                     [f"https://arxiv.org/pdf/{PAPER}v1"])
PAPER_TOPIC = gn_item(34489, "LLM 적응성의 한계: 모델 내재 사전지식이 주석 작업 성능에 미치는 영향",
                      f"https://arxiv.org/abs/{PAPER}", "LLM이 프롬프트로 제로샷 오류를 고치는 능력은 제한적임.")


def store_items(store: Store, items: list[Item]) -> list[str]:
    result = store.upsert_items(items, NOW, SEOUL)
    merge_into_store(store, result.changed_ids, NOW)
    return result.ids


def stories(store: Store) -> dict[str, set[str]]:
    """story id -> titles of its items, from the stored assignments."""
    out: dict[str, set[str]] = {}
    for row in store.db.execute("select story_id, title from story_items join items on items.id = item_id"):
        out.setdefault(row[0], set()).add(row[1])
    return out


def test_paper_post_and_topic_form_one_story_shown_by_items_json(project, run):
    with Store(project.db_path) as store:
        store_items(store, [hf_item(PAPER), hf_item("2606.12730"), PAPER_TWEET, PAPER_TOPIC])
    rows = json.loads(run("items", "--date", "2026-06-12", "--json").stdout)
    by_source = {(row["source"], row["url"]): row for row in rows}
    paper = by_source[("huggingface", f"https://huggingface.co/papers/{PAPER}")]
    tweet = by_source[("x", "https://x.com/_akhaliq/status/1800000000000000467")]
    topic = by_source[("geeknews", "https://news.hada.io/topic?id=34489")]
    other = by_source[("huggingface", "https://huggingface.co/papers/2606.12730")]
    assert paper["story_id"] == tweet["story_id"] == topic["story_id"] != other["story_id"]
    assert {paper["merge_rule"], tweet["merge_rule"], topic["merge_rule"]} == {f"arxiv:{PAPER}"}
    assert other["merge_rule"] == "alone"


def test_arrival_order_and_batches_do_not_matter(project):
    items = [hf_item(PAPER), PAPER_TWEET, PAPER_TOPIC, hf_item("2606.12730")]
    with Store(project.root / "a.db") as one_by_one, Store(project.root / "b.db") as at_once:
        for item in reversed(items):
            store_items(one_by_one, [item])
        store_items(at_once, items)
        assert stories(one_by_one) == stories(at_once)
        assert len(stories(at_once)) == 2


def test_the_same_post_from_two_mirrors_is_one_item_and_one_story(project):
    # no guid: the item is known by its URL, and every Nitter host is read as x.com
    via_a = x_item("1800000000000000467", "On the Limits", [], guid=None,
                   url="https://nitter.net/_akhaliq/status/1800000000000000467#m")
    via_b = via_a.model_copy(update={"url": "https://nitter.poast.org/_akhaliq/status/1800000000000000467#m"})
    assert via_a.key == via_b.key
    with Store(project.db_path) as store:
        store_items(store, [via_a])
        store_items(store, [via_b])
        assert store.counts_by_source() == {"x": 1}
        # two sources reading the same post through different mirrors: two items, one story
        other = via_b.model_copy(update={"source": "x-backup",
                                         "url": "http://127.0.0.1:8080/nitter/_akhaliq/status/1800000000000000467#m"})
        result = store.upsert_items([other], NOW, SEOUL)
        merge_into_store(store, result.changed_ids, NOW, mirrors=["http://127.0.0.1:8080/nitter"])
        rows = store.items_of_day(DAY)
        assert len(rows) == 2 and len({row.story_id for row in rows}) == 1
        assert {row.merge_rule for row in rows} == {"tweet:1800000000000000467"}


def test_two_papers_with_similar_titles_stay_two_stories(project):
    first = hf_item(PAPER)
    # a different paper with almost the same title, listed the same day
    second = hf_item(PAPER, guid="2606.00468", url="https://huggingface.co/papers/2606.00468",
                     links=["https://arxiv.org/abs/2606.00468"], title=first.title + " Revisited")
    # a blog post titled like the first paper but linking the second: the link wins, no merge with the first
    blog = Item(source="blog", kind="feed", url="https://blog.example.com/limits", title=first.title,
                published_at=NOW, links=["https://arxiv.org/abs/2606.00468"])
    with Store(project.db_path) as store:
        store_items(store, [first, second, blog])
        grouped = sorted(sorted(titles) for titles in stories(store).values())
    assert grouped == [[first.title], sorted([second.title, blog.title])]


def test_near_identical_titles_from_two_sources_merge_within_days_only():
    title = "Meta presents Self-Taught Evaluators at Scale for reward modeling"
    topic = MergeItem("gn1", "geeknews", "https://news.hada.io/topic?id=1", title, DAY)
    blog = MergeItem("b1", "blog", "https://ai.meta.com/blog/self-taught", title + "!", DAY + timedelta(days=2))
    late = MergeItem("b2", "blog2", "https://other.example/self-taught", title, DAY + timedelta(days=9))
    other_model = MergeItem("b3", "blog3", "https://other.example/v2", title.replace("Scale", "Scale 2"), DAY)
    result = partition([topic, blog, late, other_model])
    assert result["gn1"].story_id == result["b1"].story_id
    assert result["b1"].rule == "title~gn1"
    assert result["b2"].story_id != result["gn1"].story_id  # nine days later is another story
    assert result["b3"].story_id != result["gn1"].story_id  # a number differs: another model


def test_a_roundup_linking_several_papers_joins_none_of_them():
    a = MergeItem("a", "hf", "https://huggingface.co/papers/2606.00467", "Paper A", DAY)
    b = MergeItem("b", "hf", "https://huggingface.co/papers/2606.12730", "Paper B", DAY)
    roundup = MergeItem("r", "x", "https://x.com/u/status/5", "today's papers", DAY,
                        links=("https://arxiv.org/abs/2606.00467", "https://arxiv.org/abs/2606.12730"))
    result = partition([a, b, roundup])
    assert len({assignment.story_id for assignment in result.values()}) == 3


def test_links_about_another_paper_or_repository_than_the_item_add_no_key():
    """A link naming the item's own paper stays, one naming another paper goes with its URL key,
    one paper linked by an item that is none stays, two papers linked go; repositories alike."""
    paper = "https://huggingface.co/papers/2606.00467"

    def links(url, *linked):
        return keys_of(MergeItem("i", "s", url, "a title", DAY, links=linked)).link

    assert links(paper, "https://arxiv.org/abs/2606.00467") == ()
    assert links(paper, "https://arxiv.org/abs/2606.12730", "https://blog.example.com/a") == (
        "url:https://blog.example.com/a",)
    assert links("https://x.com/u/status/5", "https://arxiv.org/pdf/2606.12730v2") == ("arxiv:2606.12730",)
    assert links("https://x.com/u/status/5", "https://arxiv.org/abs/2606.12730", "https://arxiv.org/abs/2606.00467",
                 "https://github.com/org/tool") == ("github:org/tool",)
    repo = "https://github.com/org/tool"
    topic = MergeItem("gn", "gn", "https://news.hada.io/topic?id=7", "a title", DAY, original=repo,
                      links=(repo, "https://github.com/org/tool/releases", "https://github.com/other/lib",
                             "https://blog.example.com/b"))
    assert keys_of(topic).link == ("url:https://blog.example.com/b",)
    assert links("https://x.com/u/status/5", repo) == ("github:org/tool",)


def test_a_url_naming_a_paper_or_repository_is_a_merge_key_by_its_name_alone():
    """The URL keys `identity_keys` gives with a name are not merge keys: two items serving one
    repository page still join (by the repository), and a page on the same site as its link
    (an issue linking its repository) still keeps that link out."""
    blob = "https://github.com/org/tool/blob/main/README.md"
    assert identity_keys(blob) == ["github:org/tool", f"url:{blob}"]
    a = MergeItem("a", "feed1", "https://blog.example.com/tool", "Tool notes one", DAY, (blob,))
    b = MergeItem("b", "feed2", "https://news.example.com/tool", "Tool notes two", DAY, (blob,))
    assert keys_of(a).all == ("url:https://blog.example.com/tool", "github:org/tool")
    result = partition([a, b])
    assert result["a"].story_id == result["b"].story_id
    assert {result["a"].rule, result["b"].rule} == {"github:org/tool"}
    issue = MergeItem("i", "feed3", "https://github.com/org/tool/issues/1", "Tool crashes on start", DAY,
                      ("https://github.com/org/tool",))
    assert keys_of(issue).all == ("url:https://github.com/org/tool/issues/1",)


def test_an_item_refused_by_a_shared_link_takes_no_other_holder_from_its_story():
    """Three feeds serve one article, the first also linking paper A, the second paper B: the
    second cannot join, and the third, which links no paper, stays with the first (whose story
    a newcomer serving the article joins) rather than following the refused one."""
    article = "https://news.example.com/2026/kimi-k3"
    first = MergeItem("c1", "feed1", article, "K3 notes 1", DAY, ("https://arxiv.org/abs/2606.00467",))
    refused = MergeItem("c2", "feed2", article, "K3 notes 2", DAY, ("https://arxiv.org/abs/2606.12730",))
    plain = MergeItem("c3", "feed3", article, "K3 notes 3", DAY)
    result = partition([first, refused, plain])
    assert result["c3"] == (result["c1"].story_id, f"url:{article}")
    assert result["c2"].story_id != result["c1"].story_id
    assert result["c2"].rule == "alone"


def test_rerunning_the_merge_changes_nothing(project, run):
    with Store(project.db_path) as store:
        ids = store_items(store, [hf_item(PAPER), PAPER_TWEET, PAPER_TOPIC, hf_item("2606.12730")])
        before = project.rows("select * from story_items order by item_id")
        assert merge_into_store(store, ids, NOW + timedelta(hours=5)) == 0
        assert store_items(store, [hf_item(PAPER), PAPER_TWEET]) and True
    assert project.rows("select * from story_items order by item_id") == before
    # and re-fetching an item with more upvotes updates it in place, keeping its story
    with Store(project.db_path) as store:
        store_items(store, [hf_item(PAPER, popularity={"upvotes": 500})])
    after = project.rows("select item_id, story_id, rule from story_items order by item_id")
    assert after == [{k: row[k] for k in ("item_id", "story_id", "rule")} for row in before]


def test_an_updated_item_that_drops_its_link_leaves_the_story(project):
    with Store(project.db_path) as store:
        store_items(store, [hf_item(PAPER), PAPER_TWEET])
        assert len(stories(store)) == 1
        store_items(store, [PAPER_TWEET.model_copy(update={"links": [], "title": "never mind"})])
        assert sorted(len(titles) for titles in stories(store).values()) == [1, 1]


def test_fetch_merges_posts_from_two_mirrors_with_the_paper(project, run, httpserver):
    """Through the real CLI: two feeds (one curator read through two Nitter mirrors) are fetched
    and merged as they are stored."""
    for name in ("a", "b"):
        httpserver.expect_request(f"/{name}/rss").respond_with_data(
            read_data(f"stories/nitter_akhaliq_mirror_{name}.xml"), content_type="application/rss+xml")
        project.add_source(f"curator-{name}", kind="feed", url=httpserver.url_for(f"/{name}/rss"))
    assert run("fetch").exit_code == 0
    rows = json.loads(run("items", "--date", "2026-06-12", "--json").stdout)
    paper_posts = [row for row in rows if "2606.00467" in json.dumps(row["links"])]
    assert len(paper_posts) == 3  # the post via each mirror, and a retweet linking the alphaxiv page
    assert len({row["story_id"] for row in paper_posts}) == 1
    # the rule shown is the strongest key an item shares with the story: the paper's id
    assert {row["merge_rule"] for row in paper_posts} == {"arxiv:2606.00467"}
    unrelated = [row for row in rows if row not in paper_posts]
    assert [row["merge_rule"] for row in unrelated] == ["alone"]


# -- order independence, as a property ------------------------------------------------------

POOL = [
    MergeItem("hf1", "hf", "https://huggingface.co/papers/2606.00467", "On the Limits of LLM Adaptability", DAY,
              ("https://arxiv.org/abs/2606.00467",)),
    MergeItem("hf2", "hf", "https://huggingface.co/papers/2606.12730", "Rethinking Psychometric Evaluation of LLMs",
              DAY, ("https://github.com/psychology-of-AI/Rethinking-Pyschometric-Eval-LLMs",)),
    MergeItem("x1", "x", "https://x.com/a/status/1", "limits paper", DAY, ("https://arxiv.org/pdf/2606.00467v2",)),
    MergeItem("x2", "x2", "https://nitter.net/a/status/1#m", "limits paper", DAY),
    MergeItem("x3", "x", "https://x.com/b/status/3", "psychometrics code", DAY,
              ("https://github.com/psychology-of-AI/Rethinking-Pyschometric-Eval-LLMs/tree/main",)),
    MergeItem("gn1", "gn", "https://news.hada.io/topic?id=1", "Rethinking Psychometric Evaluation of LLMs", DAY,
              original="https://github.com/psychology-of-AI/Rethinking-Pyschometric-Eval-LLMs"),
    MergeItem("gn2", "gn", "https://news.hada.io/topic?id=2", "A blog post about agents and memory at scale", DAY,
              original="https://blog.example.com/agents?utm_source=gn"),
    MergeItem("b1", "blog", "https://blog.example.com/agents", "A blog post about agents and memory at scale", DAY),
    MergeItem("b2", "blog2", "https://blog2.example.com/x", "A blog post about agents and memory at scale", DAY,
              ("https://arxiv.org/abs/2606.12730",)),
    MergeItem("b3", "blog3", "https://blog3.example.com/y", "A blog post about agents and memory at scale", DAY,
              ("https://arxiv.org/abs/2606.00467",)),
    MergeItem("r1", "x", "https://x.com/c/status/9", "roundup", DAY,
              ("https://arxiv.org/abs/2606.00467", "https://arxiv.org/abs/2606.12730")),
]


def _as_sets(result) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for item_id, assignment in result.items():
        groups.setdefault(assignment.story_id, set()).add(item_id)
    return {frozenset(group) for group in groups.values()}


@settings(max_examples=200)
@given(st.permutations(POOL))
def test_arrival_order_never_changes_the_partition(items):
    expected = partition(POOL)
    assert partition(items) == expected
    # b2 and b3 share a title but link different papers: never together
    assert expected["b2"].story_id != expected["b3"].story_id
    assert expected["r1"].rule == "alone"  # a roundup of two papers is about neither alone


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.permutations(POOL), st.integers(1, 4))
def test_incremental_merge_in_any_order_equals_merging_all_at_once(items, batch):
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "t.db") as store:
        for start in range(0, len(items), batch):
            chunk = items[start:start + batch]
            result = store.upsert_items([
                Item(source=m.source, kind="feed", url=m.url, guid=m.id, title=m.title, day=m.day, links=list(m.links),
                     extra={"original_url": m.original} if m.original else {}) for m in chunk], NOW, SEOUL)
            merge_into_store(store, result.changed_ids, NOW)
        rows = _rows_by_guid(store, [m.id for m in POOL])
    assert len(rows) == len(POOL)
    expected = partition([MergeItem.from_row(row) for row in rows])  # the same items (store ids), all at once
    assert {row.id: row.story_id for row in rows} == {i: a.story_id for i, a in expected.items()}
    assert {row.id: row.merge_rule for row in rows} == {i: a.rule for i, a in expected.items()}


def _rows_by_guid(store: Store, guids: list[str]) -> list:
    marks = ",".join("?" * len(guids))
    ids = [row[0] for row in store.db.execute(f"select id from items where guid in ({marks})", guids)]
    return store.items_by_id(ids)


def test_shuffled_generated_days_partition_the_same():
    rnd = random.Random(7)
    items = []
    for n in range(300):
        paper = f"2606.{rnd.randrange(100):05d}"
        kind = rnd.choice(["hf", "x", "gn", "blog"])
        url = {"hf": f"https://huggingface.co/papers/{paper}", "x": f"https://x.com/u/status/{n}",
               "gn": f"https://news.hada.io/topic?id={n}", "blog": f"https://blog.example.com/{n}"}[kind]
        links = (f"https://arxiv.org/pdf/{paper}v1",) if kind != "hf" and rnd.random() < 0.5 else ()
        items.append(MergeItem(f"i{n}", kind, url, f"title {rnd.randrange(40)} about things here", DAY, links))
    expected = partition(items)
    for _ in range(3):
        rnd.shuffle(items)
        assert partition(items) == expected


# -- title candidates: the index finds exactly the pairs its rule names --------------------------

_WORDS = [letter * 3 for letter in "abcdefghijklmnopqrst"]  # no digits: a digit must match exactly


@st.composite
def _titled_items(draw):
    """Items whose titles are drawn from few words, so that sets, supersets by one word and
    long titles one word apart (substitutions need 13 tokens) meet often; a few sources, days a
    few apart."""
    count = draw(st.integers(2, 40))
    size = draw(st.one_of(st.integers(4, 9), st.integers(12, 16)))
    base = draw(st.lists(st.sampled_from(_WORDS), min_size=size, max_size=size, unique=True))
    items = []
    for n in range(count):
        words = [w for w in base if draw(st.integers(0, 9))]  # mostly the base, a word or two less
        words += draw(st.lists(st.sampled_from(_WORDS), max_size=2))
        items.append(MergeItem(f"i{n:02d}", f"s{draw(st.integers(0, 5))}", f"https://site.example.com/{n}",
                               " ".join(words), DAY + timedelta(days=draw(st.integers(0, 5)))))
    return items


def _candidates_by_rule(items, keys, dead, limit):
    """The rule `title_pairs` documents, pair by pair: two titles are candidates when they share a
    block that is some title's set, or a set less one token of titles of SUBSTITUTION_TOKENS or
    more, held by at most `limit` items (counting every block of every title) and not dead."""
    from trendbot.merge import SUBSTITUTION_TOKENS, _blocks, _signature, titles_match

    blocks = {item.id: set(_blocks(keys[item.id].tokens)) for item in items}
    sets = {tuple(sorted(keys[item.id].tokens)) for item in items if blocks[item.id]}
    held = {}
    for found in blocks.values():
        for block in found:
            held[block] = held.get(block, 0) + 1
    pairs = set()
    for n, a in enumerate(items):
        for b in items[n + 1:]:
            shared = [block for block in blocks[a.id] & blocks[b.id]
                      if (block in sets or len(block) + 1 >= SUBSTITUTION_TOKENS) and held[block] <= limit
                      and "sig:" + _signature(block) not in dead]
            if shared and (sim := titles_match(a, keys[a.id], b, keys[b.id])):
                pairs.add((sim, *sorted((a.id, b.id))))
    return pairs


@settings(max_examples=300)
@given(_titled_items(), st.data())
def test_title_pairs_are_the_pairs_of_their_rule(items, data):
    from trendbot.merge import _blocks, _signature, title_pairs

    keys = {item.id: keys_of(item) for item in items}
    every = sorted({"sig:" + _signature(b) for item in items for b in _blocks(keys[item.id].tokens)})
    dead = data.draw(st.lists(st.sampled_from(every), max_size=3) if every else st.just([]))
    found = {(sim, *sorted((a, b))) for sim, a, b in title_pairs(items, keys, dead)}
    assert found == _candidates_by_rule(items, keys, set(dead), BLOCK_LIMIT)


@settings(max_examples=500)
@given(st.text(st.characters(max_codepoint=127), max_size=60))
def test_ascii_title_tokens_are_its_words(title):
    from trendbot.merge import _STOPWORDS, title_tokens

    text = re.sub(r"^(?:RT by @\w+|R to @\w+|Pinned):\s*", "", title)
    words = set(re.findall(r"\w+", text.lower())) - _STOPWORDS - {"_"}
    assert title_tokens(title) == tuple(sorted(words))


@settings(max_examples=500)
@given(st.lists(st.sampled_from(["모델", "Ｆｕｌｌ", "Éclair", "naïve", "ﬁne", "x_y", "—", "“quoted”", "Ⅻ", "²",
                                 "İstanbul", "LLM", "42", " ", "\u00a0", "\u3000", "\x1f", "a-b", "!"]), max_size=12)
       .map("".join) | st.text(max_size=40))
def test_title_tokens_are_its_words_whatever_the_script(title):
    """The fast paths (ASCII bytes, words of letters and digits) give what `\\w+` gives."""
    from trendbot.merge import _STOPWORDS, title_tokens

    text = re.sub(r"^(?:RT by @\w+|R to @\w+|Pinned):\s*", "", title)
    words = set(re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower())) - _STOPWORDS - {"_"}
    assert title_tokens(title) == tuple(sorted(words))


@given(st.lists(st.tuples(st.sampled_from(["arxiv", "tweet", "github", "url", "a", "doi", "uri", "zz", "arxivx"]),
                          st.text("ab:/1", max_size=4)).map(":".join), min_size=1, max_size=6))
def test_the_strongest_key_is_the_least_by_kind_then_name(keys):
    from trendbot.merge import _key_order, _strongest

    assert _strongest(tuple(keys)) == min(keys, key=_key_order)


@given(st.text(max_size=80), st.text(max_size=80))
def test_a_hasher_of_a_first_part_hashes_as_short_hash(first, part):
    """Story ids (stored, and named by the person's notes) must not change with how they are hashed."""
    from trendbot.models import short_hash, short_hasher

    assert short_hasher(first)(part) == short_hash(first, part)


def test_titles_with_the_same_numbers_match_whatever_order_their_tokens_come_in():
    """An item keeps its title's tokens in no particular order (as a set iterates): two echoes
    of one title with several numbers still have the same numbers, and a different number
    still keeps them apart."""
    from trendbot.merge import ItemKeys, titles_match

    a = MergeItem("a", "one", "https://a.example.com/1", "", DAY)
    b = MergeItem("b", "two", "https://b.example.com/1", "", DAY)
    tokens = ("gpt4", "beats", "llama3", "on", "mmlu2", "today")
    assert titles_match(a, ItemKeys((), (), tokens), b, ItemKeys((), (), tokens[::-1])) == 1.0
    other = ("gpt5",) + tokens[1:]
    assert titles_match(a, ItemKeys((), (), tokens), b, ItemKeys((), (), other[::-1])) == 0.0


# -- crowds and echoed titles: the bounded merge still equals merging everything at once -------

CROWD_LINK = "https://news.example.com/2026/kimi-k3"
ECHO = "Kimi K3 is out with open weights and agentic coding"


def crowd_pool() -> list[MergeItem]:
    """A link more feeds serve than CROWD (some also linking a paper: a crowd holds pins), posts
    linking it together with another paper (they may not join), and a title echoed by more items
    than BLOCK_LIMIT, a few of them also linking the crowd's article."""
    items = [MergeItem("hfA", "hf", "https://huggingface.co/papers/2606.00467", "Paper A about open weights", DAY),
             MergeItem("hfB", "hf", "https://huggingface.co/papers/2606.12730", "Paper B about agentic coding", DAY)]
    for n in range(CROWD + 8):
        links = ("https://arxiv.org/abs/2606.00467",) if n % 9 == 0 else ()
        title = f"Kimi K3 release notes number {n % 3}" if n % 2 else f"K3 notes {n}"  # shared, or no block
        items.append(MergeItem(f"c{n:02d}", f"feed{n}", CROWD_LINK, title, DAY, links))
    for n in range(3):
        items.append(MergeItem(f"x{n}", "x", f"https://x.com/u/status/{n + 1}", "thread", DAY,
                               (CROWD_LINK, "https://arxiv.org/abs/2606.12730")))
    for n in range(BLOCK_LIMIT + 6):
        links = (CROWD_LINK,) if n % 20 == 0 else ()
        items.append(MergeItem(f"e{n:02d}", f"site{n}", f"https://site{n}.example.com/kimi", ECHO, DAY + timedelta(days=n % 3),
                               links))
    items.append(MergeItem("late", "blog", "https://blog.example.com/kimi", ECHO + "!", DAY + timedelta(days=1)))
    return items


def as_item(m: MergeItem) -> Item:
    return Item(source=m.source, kind="feed", url=m.url, guid=m.id, title=m.title, day=m.day, links=list(m.links),
                extra={"original_url": m.original} if m.original else {})


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(1, 25))
def test_crowds_and_echoed_titles_merge_incrementally_as_all_at_once(rnd, batch):
    pool = crowd_pool()
    rnd.shuffle(pool)
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "t.db") as store:
        for start in range(0, len(pool), batch):
            result = store.upsert_items([as_item(m) for m in pool[start:start + batch]], NOW, SEOUL)
            merge_into_store(store, result.changed_ids, NOW)
        rows = store.items_by_id(row[0] for row in store.db.execute("select id from items"))
        assert merge_into_store(store, [row.id for row in rows], NOW) == 0  # merging again changes nothing
    assert len(rows) == len(pool)
    expected = partition([MergeItem.from_row(row) for row in rows])
    assert {row.id: (row.story_id, row.merge_rule) for row in rows} == {i: (a.story_id, a.rule) for i, a in expected.items()}
    papers: dict[str, set[str]] = {}
    for row in rows:
        papers.setdefault(row.story_id, set()).update(keys_of(MergeItem.from_row(row)).arxiv)
    assert all(len(found) <= 1 for found in papers.values())  # never two papers in one story
    by_guid = {row.guid: row for row in rows}
    # the crowd's items linking paper A are A's story, the posts linking paper B are B's, whatever
    # the crowd's other items joined (the first holder of the link decides, as at once)
    assert {by_guid[f"c{n:02d}"].story_id for n in range(0, CROWD + 8, 9)} == {by_guid["hfA"].story_id}
    assert {by_guid[f"x{n}"].story_id for n in range(3)} == {by_guid["hfB"].story_id} != {by_guid["hfA"].story_id}
    assert len({by_guid[f"c{n:02d}"].story_id for n in range(CROWD + 8)}) <= 2
    # the echoed title says nothing: its items are alone unless they link the crowd's article
    echoed = [by_guid[f"e{n:02d}"] for n in range(BLOCK_LIMIT + 6)]
    assert {row.merge_rule for row in echoed if row.links == []} == {"alone"}


def test_a_title_held_by_too_many_items_joins_none_of_them():
    few = [MergeItem(f"e{n}", f"site{n}", f"https://site{n}.example.com/a", ECHO, DAY) for n in range(BLOCK_LIMIT)]
    many = few + [MergeItem("one-more", "site-x", "https://x.example.com/a", ECHO, DAY)]
    assert len({a.story_id for a in partition(few).values()}) == 1
    assert {a.rule for a in partition(many).values()} == {"alone"}


def test_a_fetch_of_200_feeds_of_one_title_finishes_and_stores_everything(project, run, httpserver):
    """200 feeds of 100 entries that all carry one title (one release echoed everywhere, or a
    hostile server), served from a local server in the shape of a recorded RSS feed (its
    channel and its first item, the link made distinct per entry)."""
    real = read_data("feeds/hf_blog_rfeed_2026-03-03T1402Z.xml").decode()
    channel, item = real[:real.index("<item>")], real[real.index("<item>"):real.index("</item>") + len("</item>")]
    link = re.search(r"<link>(.*?)</link>", item).group(1)
    title = re.search(r"<title>(.*?)</title>", item).group(1)

    def feed(request) -> Response:
        number = request.path.rsplit("/", 1)[1]
        entries = "".join(item.replace(link, f"{link}-{number}-{k}") for k in range(100))
        return Response(channel + entries + "</channel></rss>", content_type="application/rss+xml")

    httpserver.expect_request(re.compile(r"^/feed/\d+$")).respond_with_handler(feed)
    for number in range(200):
        project.add_source(f"feed{number:03d}", kind="feed", url=httpserver.url_for(f"/feed/{number}"))
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert project.rows("select count(*) n, count(distinct title) titles from items") == [{"n": 20000, "titles": 1}]
    assert project.rows("select count(*) n from items where title = ?", (title,)) == [{"n": 20000}]
    stories = project.rows("select count(*) n, count(distinct story_id) stories, min(rule) low, max(rule) high "
                           "from story_items")
    assert stories == [{"n": 20000, "stories": 20000, "low": "alone", "high": "alone"}]
