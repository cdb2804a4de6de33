"""The three-way merge of a day's block: trendbot's update goes into the list the person annotated.

Blocks are made by trendbot's own renderer (`render_section`, `block_body`), so the merge is
tested on the text trendbot really writes; the person's edits are typed as a person would.
"""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from trendbot.blockmerge import Unmergeable, merge_block, report
from trendbot.sections import block_body
from trendbot.render import Line, render_line, render_section

DAY = date(2026, 9, 29)


def paper(arxiv_id: str, title: str, summary: str, upvotes: int, *mentions: tuple[str, str]) -> Line:
    return Line(title, f"https://huggingface.co/papers/{arxiv_id}", summary, [f"HF ▲{upvotes}"], list(mentions))


def topic(topic_id: int, title: str, summary: str, points: int, comments: int) -> Line:
    return Line(title, f"https://news.hada.io/topic?id={topic_id}", summary, [f"GN {points}p 💬{comments}"])


def block(lines: list[Line], notes: list[str] = ()) -> str:
    return block_body(render_section(DAY, lines, list(notes)))


def head_and_tail(text: str, lines: list[Line]) -> tuple[str, str]:
    """The block's text before its first story line and after its last one."""
    first, last = render_line(lines[0]), render_line(lines[-1])
    return text[:text.index(first)], text[text.index(last) + len(last) + 1:]


X_POST = ("X", "https://x.com/_akhaliq/status/1800000000000000467")
EVO = ("2606.13681", "EvoArena: Tracking Memory Evolution for Robust LLM Agents in Dynamic Environments",
       "EvoArena benchmark and EvoMem memory paradigm address the challenge of dynamic environments in LLM agents.")
MINIMAX = ("2606.13392", "MiniMax Sparse Attention",
           "MiniMax Sparse Attention enables efficient processing of ultra-long contexts in large language models.")
ROBUST = ("2606.08063", "Robust-U1: Can MLLMs Self-Recover Corrupted Visual Content for Robust Understanding?",
          "Robust-U1 enhances multimodal large language models' robustness against visual corruptions.")
LEAK = (34489, "AI 기업들이 광고업체에 데이터를 유출함 [pdf]", "주요 AI 서비스가 광고 추적 코드로 대화 내용을 보낸다는 보고서")
HYDRA = ("2606.13289", "HYDRA-X: Native Unified Multimodal Models with Holistic Visual Tokenizers",
         "HYDRA-X presents a unified multimodal model that integrates image and video tokenization.")
LATENT = ("2606.13106", "Demystifying Hidden-State Recurrence: Switchable Latent Reasoning with On-Policy "
          "Reinforcement Learning", "A switchable latent reasoning framework uses explicit boundary tokens.")
VIA = ("2606.12243", "VIA-SD: Verification via Intra-Model Routing for Speculative Decoding",
       "VIA-SD introduces a multi-tier speculative decoding framework that uses intra-model routing.")
TREE = ("2606.11662", "TreeSeeker: Tree-Structured Trial, Error, and Return in Deep Search",
        "TreeSeeker is an inference-time framework that uses tree-structured search with branch-and-return control.")

# The evening's edits, typed as the person types them.
REWRITTEN = ("- [미니맥스 희소 어텐션](https://huggingface.co/papers/2606.13392) — 초장문 문맥을 싸게 처리한다. "
             "다음 주 과제에 써볼 것!")
QUESTION = "  - 질문: 왜 $O(n)$ 인가?"
CLOSING = "오늘은 긴 문맥과 멀티모달 논문이 많았다. 주말에 \\(O(n^2)\\) 어텐션과 비교해 보기."


def test_the_persons_evening_edits_survive_the_morning_update():
    base_lines = [paper(*EVO, 118, X_POST), paper(*MINIMAX, 103), paper(*ROBUST, 74), topic(*LEAK, 12, 3),
                  paper(*HYDRA, 25), paper(*LATENT, 18), paper(*VIA, 14)]
    base = block(base_lines, ["x: 수집 실패"])
    evo, minimax, robust, leak, hydra, latent, via = map(render_line, base_lines)
    head, tail = head_and_tail(base, base_lines)
    assert base == head + "\n".join(map(render_line, base_lines)) + "\n" + tail
    # Rewrite a line into Korean with a remark, delete a line, add a sub-bullet under an unchanged
    # line, add a paragraph at the end of the list, move a line to the top.
    mine = head + "\n".join([hydra, evo, REWRITTEN, robust, QUESTION, latent, via, "", CLOSING]) + "\n" + tail
    # The next morning: more upvotes, a new GeekNews mention, a new paper, x works again.
    theirs_lines = [paper(*MINIMAX, 140), paper(*EVO, 121, X_POST, ("GN", "https://news.hada.io/topic?id=34490")),
                    paper(*ROBUST, 95), paper(*TREE, 70), paper(*HYDRA, 61), paper(*LATENT, 18),
                    topic(*LEAK, 15, 5), paper(*VIA, 14)]
    theirs = block(theirs_lines)
    new_minimax, new_evo, new_robust, tree, new_hydra, new_latent, new_leak, new_via = map(render_line, theirs_lines)
    assert new_latent == latent and new_via == via and new_minimax != minimax
    new_head, new_tail = head_and_tail(theirs, theirs_lines)

    merged = merge_block(base, mine, theirs)

    assert merged.text == new_head + "\n".join([
        new_hydra,            # where the person moved it, with today's upvotes
        new_evo,              # refreshed: upvotes and the GeekNews mention
        REWRITTEN,            # the person's words, although the upvotes changed
        new_robust, QUESTION,  # refreshed, the question still under it
        tree,                 # the new paper, at its rank among trendbot's lines
        latent, via, "", CLOSING,
    ]) + "\n" + new_tail
    assert "x: 수집 실패" not in merged.text and new_leak not in merged.text and "34489" not in merged.text
    assert report(merged) == ("merged with your edits: 1 line kept as you wrote it, 1 deletion kept, 2 notes kept, "
                              "1 line kept where you moved it; 4 lines refreshed; 1 story added")
    again = merge_block(theirs, merged.text, theirs)
    assert again.text == merged.text
    assert (again.refreshed, again.added, again.removed) == (0, 0, 0)


def test_an_untouched_block_becomes_the_new_rendering_and_says_nothing_of_edits():
    base_lines = [paper(*EVO, 118), paper(*MINIMAX, 103), topic(*LEAK, 12, 3)]
    theirs_lines = [paper(*MINIMAX, 150), paper(*TREE, 70), paper(*EVO, 119)]
    base, theirs = block(base_lines, ["x: 수집 실패"]), block(theirs_lines)
    merged = merge_block(base, base, theirs)
    assert merged.text == theirs
    assert not merged.edited and report(merged) == ""
    assert (merged.refreshed, merged.added, merged.removed) == (3, 1, 1)
    # An editor that strips trailing spaces changes nothing that counts.
    stripped = "\n".join(line.rstrip() for line in base.split("\n"))
    assert merge_block(base, stripped, theirs).text == theirs


def test_a_dropped_story_stays_while_the_person_has_something_under_it():
    base_lines = [paper(*EVO, 118), paper(*MINIMAX, 103), paper(*ROBUST, 74)]
    base = block(base_lines)
    evo, minimax, robust = map(render_line, base_lines)
    head, tail = head_and_tail(base, base_lines)
    mine = head + "\n".join([evo, "  ![구조도](/assets/img/evoarena.png)", minimax, robust]) + "\n" + tail
    theirs_lines = [paper(*ROBUST, 80)]
    merged = merge_block(base, mine, block(theirs_lines))
    assert merged.text == head + "\n".join([evo, "  ![구조도](/assets/img/evoarena.png)",
                                            render_line(theirs_lines[0])]) + "\n" + tail
    assert report(merged) == ("merged with your edits: 1 note kept, 1 story no longer listed kept for your edits; "
                              "1 line refreshed; 1 story removed")


def test_a_block_whose_stories_were_all_deleted_takes_only_new_stories_after_the_persons_text():
    base_lines = [paper(*EVO, 118), paper(*MINIMAX, 103)]
    base = block(base_lines)
    head, tail = head_and_tail(base, base_lines)
    mine = head + "오늘은 읽을 만한 게 없었다." + "\n" + tail
    theirs_lines = [paper(*EVO, 130), paper(*TREE, 70)]
    merged = merge_block(base, mine, block(theirs_lines))
    assert merged.text == head + "오늘은 읽을 만한 게 없었다.\n\n" + render_line(theirs_lines[1]) + "\n" + tail
    assert merge_block(block(theirs_lines), merged.text, block(theirs_lines)).text == merged.text


def test_a_table_of_notes_under_a_line_is_kept_and_new_stories_do_not_join_it():
    base_lines = [paper(*EVO, 118), paper(*MINIMAX, 103)]
    base = block(base_lines)
    evo, minimax = map(render_line, base_lines)
    head, tail = head_and_tail(base, base_lines)
    table = ["", "| 모델 | 문맥 |", "|---|---|", "| MiniMax | 1M |"]
    mine = head + "\n".join([evo, minimax, *table]) + "\n" + tail
    theirs_lines = [paper(*EVO, 118), paper(*MINIMAX, 103), paper(*TREE, 70)]
    merged = merge_block(base, mine, block(theirs_lines))
    assert merged.text == head + "\n".join([evo, minimax, *table, "", render_line(theirs_lines[2])]) + "\n" + tail


def test_trendbots_heading_and_notes_are_refreshed_when_left_alone_and_kept_when_changed():
    base_lines = [paper(*EVO, 118), paper(*MINIMAX, 103)]
    base = block(base_lines, ["x: 수집 실패"])
    lines = "\n".join(map(render_line, base_lines)) + "\n"
    theirs = block_body(render_section(DAY, base_lines, ["hf: 수집 실패"],
                                       "### 데일리 트렌드 {#daily-trends-2026-09-29}"))
    assert merge_block(base, base, theirs).text == theirs
    head, tail = head_and_tail(base, base_lines)
    new_head, new_tail = head_and_tail(theirs, base_lines)
    renamed = "\n### 오늘 읽은 것\n\n"
    merged = merge_block(base, renamed + lines + tail, theirs)
    assert merged.text == renamed + lines + new_tail
    assert report(merged) == "merged with your edits: 1 line kept as you wrote it; 1 line refreshed"
    spaced = head + "\n"  # a blank line of the person's under the heading
    merged = merge_block(base, spaced + lines + tail, theirs)
    assert merged.text == spaced + lines + new_tail
    assert report(merged) == "merged with your edits: your spacing kept; 1 line refreshed"
    assert merge_block(base, head + lines + "\n", theirs).text == new_head + lines + "\n"  # notes deleted
    closing = "\n오늘은 여기까지.\n" + tail  # the notes under the person's closing words
    merged = merge_block(base, head + lines + closing, theirs)
    assert merged.text == new_head + lines + "\n오늘은 여기까지.\n" + new_tail
    assert report(merged) == "merged with your edits: 1 note kept; 2 lines refreshed"
    written_after = head + lines + tail + "다 읽음.\n"  # the notes above the person's last words
    merged = merge_block(base, written_after, theirs)
    assert merged.text == new_head + lines + tail + "다 읽음.\n"
    assert report(merged) == "merged with your edits: 1 note kept; 1 line refreshed"


def test_what_a_merge_writes_the_next_merge_can_read():
    # The person deleted a story's line and named it in a remark above the list; theirs keeps only
    # that story. Removing the untouched line theirs dropped would leave a block with no list and
    # a story named in text: the next merge would refuse it. The untouched line stays instead.
    base_lines = [paper(*EVO, 118), paper(*MINIMAX, 103)]
    base = block(base_lines)
    head, tail = head_and_tail(base, base_lines)
    evo = render_line(base_lines[0])
    mine = head + "[미니맥스](https://huggingface.co/papers/2606.13392)는 내일 다시 읽기.\n\n" + evo + "\n" + tail
    theirs = block([paper(*MINIMAX, 140)])
    merged = merge_block(base, mine, theirs)
    assert merged.text == mine
    assert merge_block(theirs, merged.text, theirs).text == merged.text


def test_a_bracket_escaped_in_a_title_does_not_hide_the_story():
    # Light escaping writes a title's `](` as `\\](`: the story is still the link's address.
    base = ("\n### 데일리 트렌드\n\n"
            "- [Why \\](not) attention](https://huggingface.co/papers/2606.13392) — a survey · HF ▲10\n"
            "- [HYDRA-X](https://huggingface.co/papers/2606.13289) — a model · HF ▲5\n\n")
    mine = base.replace("[Why \\](not) attention]", "[어텐션이 아닌 이유]")
    theirs = base.replace("▲10", "▲12").replace("▲5", "▲7")
    merged = merge_block(base, mine, theirs)
    assert merged.text == mine.replace("▲5", "▲7")
    assert report(merged) == "merged with your edits: 1 line kept as you wrote it; 1 line refreshed"


def test_a_title_ending_in_an_escaped_bracket_still_names_its_story():
    # `[\\](](url)`: the escaped `](` and the real one overlap; found by the property test below
    odd = paper("00010", "](", "", 0)
    base = block([paper("00001", ":", "", 0), odd, paper("00002", ":", "", 0)])
    mine = base.replace(render_line(odd), "- [다른 글](https://example.com/0)")
    theirs = block([paper("00001", ":", "", 0), paper("00010", "](", "", 1)])
    merged = merge_block(base, mine, theirs).text
    assert "papers/00010" not in merged  # the person replaced that line: it stays gone
    assert "- [다른 글](https://example.com/0)" in merged


def unmergeable_edits() -> dict[str, str]:
    base_lines = [paper(*EVO, 118), paper(*MINIMAX, 103), topic(*LEAK, 12, 3)]
    head, tail = head_and_tail(block(base_lines), base_lines)
    links = [f"[{line.title}]({line.url})" for line in base_lines]
    return {
        "a table": head + "| 링크 | 메모 |\n|---|---|\n" + "".join(f"| {link} | 읽기 |\n" for link in links) + tail,
        "a quote": head + "".join(f"> - {link}\n" for link in links) + tail,
        "an indented list": head + "오늘 읽을 것:\n" + "".join(f"  - {link}\n" for link in links) + tail,
        "an unclosed fence": head + "\n".join(render_line(line) for line in base_lines) + "\n  ```python\n  x = 1\n" + tail,
    }


@pytest.mark.parametrize("kind", list(unmergeable_edits()))
def test_a_block_that_is_no_longer_lines_of_stories_is_not_merged(kind):
    base_lines = [paper(*EVO, 118), paper(*MINIMAX, 103), topic(*LEAK, 12, 3)]
    with pytest.raises(Unmergeable) as raised:
        merge_block(block(base_lines), unmergeable_edits()[kind], block([paper(*TREE, 70)] + base_lines))
    assert raised.value.reason


# -- properties over random edit scripts -------------------------------------------------------

TITLE = st.text(alphabet="abc XYZ 가나다 -:*_[]()$\\`<>|#{}", min_size=1, max_size=16)
NOTES = ["x: 수집 실패", "geeknews: 업데이트 없음 (3일)", "hf: 수집 실패"]
EDITS = ["change", "retarget", "delete", "sub", "para", "image", "blank", "own", "move", "heading", "after_notes"]


@st.composite
def renderings(draw):
    """A base rendering, the next one (stories dropped, added, re-ranked, re-counted, notes
    changed) and the stories' lines."""
    stories = draw(st.lists(st.integers(0, 60), min_size=1, max_size=9, unique=True))
    titles = {story: draw(TITLE) for story in range(61)}

    def line(story: int) -> Line:
        return paper(f"{story:05d}", titles[story], draw(st.sampled_from(["", "요약입니다.", "A (short) summary."])),
                     draw(st.integers(0, 300)))

    base_lines = [line(story) for story in stories]
    kept = [story for story in stories if draw(st.booleans())]
    fresh = draw(st.lists(st.integers(0, 60).filter(lambda s: s not in stories), max_size=4, unique=True))
    theirs_stories = draw(st.permutations(kept + fresh)) if kept or fresh else [stories[0]]
    theirs_lines = [line(story) for story in theirs_stories]
    notes = st.lists(st.sampled_from(NOTES), max_size=2, unique=True)
    heading = draw(st.sampled_from(["### 데일리 트렌드", "### 데일리 트렌드 {#daily-trends-2026-09-29}"]))
    theirs = block_body(render_section(DAY, theirs_lines, draw(notes), heading))
    return block(base_lines, draw(notes)), theirs, base_lines, theirs_lines


def edit(base: str, base_lines: list[Line], script: list[tuple[str, int, int]]) -> tuple[str, list[str], dict]:
    """The person's block after an edit script, the lines they wrote (each one unique), and
    what hangs under each story line (address -> lines)."""
    head, tail = head_and_tail(base, base_lines)
    head_lines, tail_lines = head.split("\n"), tail.split("\n")
    items = [{"url": line.url, "lines": [render_line(line)]} for line in base_lines]
    written: set[str] = set()
    serial = itertools.count()

    def write(text: str) -> str:
        text = text.format(n=next(serial))
        written.add(text)
        return text

    for name, i, j in script:
        if name == "heading":
            head_lines[1] = write("### 오늘의 트렌드 {n}")
        elif name == "after_notes":
            tail_lines[-1:] = [write("끝맺는 말 {n}."), ""]
        if not items or name in ("heading", "after_notes"):
            continue
        item = items[i % len(items)]
        if name == "change":
            item["lines"][0] = write("- [고친 제목 {n}](" + item["url"] + ") 내 생각 {n}")
        elif name == "retarget":
            item["url"] = write("https://example.com/{n}")
            item["lines"][0] = write("- [다른 글 {n}](" + item["url"] + ")")
        elif name == "delete":
            items.remove(item)
        elif name == "sub":
            item["lines"].append(write("  - 질문 {n}: 왜 $O(n)$ 인가?"))
        elif name == "para":
            item["lines"] += ["", write("문단 {n}: \\(x_i\\) 가 핵심.")]
        elif name == "image":
            item["lines"].append(write("  ![그림 {n}](/assets/{n}.png)"))
        elif name == "blank":
            item["lines"].append("")
        elif name == "own":
            url = write("https://example.com/own/{n}")
            items.insert(items.index(item) + 1, {"url": url, "lines": [write("- [내 링크 {n}](" + url + ")")]})
        elif name == "move":
            items.remove(item)
            items.insert(j % (len(items) + 1), item)
    lines = head_lines[:-1] + [text for item in items for text in item["lines"]] + tail_lines
    under = {item["url"]: item["lines"][1:] for item in reversed(items)}
    if items:  # text after trendbot's notes hangs under the last line, as the notes then do
        under[items[-1]["url"]] += [text for text in tail_lines if text in written]
    return "\n".join(lines), [text for text in lines if text in written], under


SCRIPTS = st.lists(st.tuples(st.sampled_from(EDITS), st.integers(0, 99), st.integers(0, 99)), max_size=8)


def is_subsequence(wanted: list[str], lines: list[str]) -> bool:
    rest = iter(lines)
    return all(any(line == want for line in rest) for want in wanted)


def bullets(text: str) -> dict[str, str]:
    """First link address -> line, for the block's story lines."""
    found = {}
    for line in text.split("\n"):
        if match := re.match(r"- \[.*?\]\((https://[^)]+)\)", line):
            found.setdefault(match.group(1), line)
    return found


@settings(max_examples=300, deadline=None)
@given(renderings(), SCRIPTS)
def test_merging_random_edits(blocks, script):
    base, theirs, base_lines, theirs_lines = blocks
    mine, written, under = edit(base, base_lines, script)

    assert merge_block(base, base, theirs).text == theirs
    assert merge_block(base, mine, base).text == mine
    merged = merge_block(base, mine, theirs)
    assert merge_block(base, mine, theirs) == merged
    assert merge_block(theirs, merged.text, theirs).text == merged.text

    result = merged.text.split("\n")
    assert is_subsequence(written, result)  # every line the person wrote, in their order
    before = {line.url: render_line(line) for line in base_lines}
    after = {line.url: render_line(line) for line in theirs_lines}
    now, out = bullets(mine), bullets(merged.text)
    for url, line in after.items():
        if url in before and url not in now:
            assert url not in out  # deleted stays deleted
        elif url not in before and url not in now:
            assert merged.text.count(line) == 1  # a new story, once
        elif url in before and now[url] == before[url]:
            assert out[url] == line  # untouched lines are refreshed
    for url, line in before.items():
        if url not in after and now.get(url) == line and not under[url]:
            assert url not in out  # dropped
        if url not in after and now.get(url) == line and any(text.strip() for text in under[url]):
            assert out[url] == line  # dropped, but the person's notes hang under it


def test_two_stories_with_one_address_keep_their_notes_when_the_ranking_swaps_them():
    """Two Hacker News threads of one article lead with the article's address: each line is
    known by its other links too, never by its rank, so the note stays with its thread."""
    article = "https://example.com/gpt-6-launch"
    first = Line("GPT-6 launch", article, "", ["HN 300p"], [("HN", "https://news.ycombinator.com/item?id=1")])
    second = Line("GPT-6 launch (discussion 2)", article, "", ["HN 120p"],
                  [("HN", "https://news.ycombinator.com/item?id=2")])
    other = topic(34489, *LEAK[1:], 10, 1)
    base = block([first, second, other])
    note = "  - 두 번째 스레드가 더 유익함"
    mine = base.replace(render_line(second) + "\n", render_line(second) + "\n" + note + "\n")
    swapped = [replace_meta(second, "HN 400p"), replace_meta(first, "HN 310p"), other]
    merged = merge_block(base, mine, block(swapped)).text
    lines = merged.split("\n")
    assert lines[lines.index(note) - 1] == render_line(swapped[0])  # still under thread 2
    assert merged.count("item?id=1") == 1 and merged.count("item?id=2") == 1


def replace_meta(line: Line, meta: str) -> Line:
    return Line(line.title, line.url, line.summary, [meta], line.mentions)
