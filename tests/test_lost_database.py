"""The person's notes survive a lost database: the begin marker's hash vouches only for text
trendbot wrote itself, and without the stored base a block the person edited is merged
conservatively (their lines kept byte for byte and in their order, their deletions kept, only
stories not yet in the block added). The database is lost in the tests the way it is lost in
real life: the SQLite file is deleted (the Actions cache evicted), or the publish runs with no
record of the block (`bases` empty)."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trendbot.render import Line, render_section
from trendbot.sections import find_blocks, place_section, split_lines

DAY = date(2026, 9, 29)
POOL = [f"https://news.hada.io/topic?id={34400 + n}" for n in range(12)]
POST = "---\nlayout: post\n---\n\n## 18일차\n\n### 부캠 강의\n\n- 어텐션\n"


def section(stories: list[int], votes: int) -> str:
    lines = [Line(title=f"Story {n} about models", url=POOL[n], summary=f"what {n} does", meta=[f"GN {votes + n}p"])
             for n in stories]
    return render_section(DAY, lines, [], "### 데일리 트렌드")


def block(text: str) -> list[str]:
    lines = split_lines(text)
    found = find_blocks(lines)[0]
    return [line.text for line in lines[found.begin + 1:found.end]]


def publish(text: str, rendering: str, bases: dict[str, str] | None) -> str:
    placed = place_section(text, DAY, rendering, "## 18일차", bases=bases)
    if bases is not None:
        bases[block_hash_of(placed.text)] = placed.written
    return placed.text


def block_hash_of(text: str) -> str:
    return find_blocks(split_lines(text))[0].recorded


def story_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("- [")]


def edit(lines: list[str], script: list[tuple[str, int]], mine: list[str], deleted: set[str]) -> list[str]:
    """Apply the person's edits; `mine` collects the lines they wrote or rewrote, `deleted` the
    stories they removed."""
    lines = list(lines)
    for action, pick in script:
        stories = [i for i, line in enumerate(lines) if line.startswith("- [")]
        if not stories:
            break
        at = stories[pick % len(stories)]
        line = lines[at]
        url = line[line.index("](") + 2:line.index(")", line.index("]("))]
        if action == "delete" and line not in mine:
            del lines[at]
            deleted.add(url)
        elif action == "rewrite" and line not in mine:
            lines[at] = f"- [내가 고친 제목 {len(mine)}]({url}) — 메모 {len(mine)}"
            mine.append(lines[at])
        elif action == "note":
            note = f"  - 질문 {len(mine)}: 왜 $O(n)$ 인가?"
            lines.insert(at + 1, note)
            mine.append(note)
        elif action == "move" and at > stories[0]:
            lines.insert(stories[0], lines.pop(at))
    return lines


def with_block(text: str, lines: list[str]) -> str:
    all_lines = split_lines(text)
    found = find_blocks(all_lines)[0]
    return (text[:all_lines[found.begin].end] + "".join(line + "\n" for line in lines)
            + text[all_lines[found.end].start:])


def in_order(found: list[str], wanted: list[str]) -> bool:
    it = iter(found)
    return all(any(line == seen for seen in it) for line in wanted)


edits = st.lists(st.tuples(st.sampled_from(["delete", "rewrite", "note", "move"]), st.integers(0, 20)), max_size=4)
renderings = st.lists(st.integers(0, len(POOL) - 1), min_size=1, max_size=8, unique=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days=st.lists(st.tuples(renderings, edits, st.booleans()), min_size=1, max_size=5), first=renderings)
def test_every_line_of_the_person_survives_any_edits_and_any_loss_of_the_database(days, first):
    bases: dict[str, str] = {}
    text = publish(POST, section(first, 0), bases)
    mine: list[str] = []
    deleted: set[str] = set()
    for n, (stories, script, lost) in enumerate(days, start=1):
        edited = edit(block(text), script, mine, deleted)
        text = with_block(text, edited)
        if lost:
            bases.clear()  # the database is gone: a new one knows nothing of this block
        text = publish(text, section(stories, 10 * n), bases)
        now = block(text)
        theirs = [line for line in edited if line in mine]  # the person's lines, in the person's order
        assert len(theirs) == len(mine) and in_order(now, theirs), (now, theirs)
        listed = {line[line.index("](") + 2:line.index(")", line.index("]("))] for line in story_lines(now)}
        assert not listed & deleted, (listed & deleted, now)
    assert POST.split("## 18일차")[1] in text  # the person's own part of the day, untouched


def test_a_lost_database_after_several_merges_keeps_every_note_and_every_deletion():
    bases: dict[str, str] = {}
    text = publish(POST, section([0, 1, 2, 3, 4], 0), bases)
    mine: list[str] = []
    deleted: set[str] = set()
    for n, script in enumerate([[("note", 0), ("delete", 3)], [("rewrite", 1)], [("delete", 0), ("note", 1)]], 1):
        text = with_block(text, edit(block(text), script, mine, deleted))
        text = publish(text, section([0, 1, 2, 3, 4, 4 + n], 10 * n), bases)  # a new story each time
    before = block(text)
    bases.clear()
    placed = place_section(text, DAY, section([0, 1, 2, 3, 4, 7, 9], 99), "## 18일차", bases={})
    after = block(placed.text)
    assert placed.how == "kept" and placed.merged.without_base
    assert after[:len(before) - 1] == before[:len(before) - 1]  # byte for byte, nothing refreshed
    assert mine and all(line in after for line in mine) and in_order(after, [line for line in before if line in mine])
    assert not {url for url in deleted if any(url in line for line in after)}
    assert any(POOL[9] in line for line in after)  # a story not yet in the block is added
    assert placed.merged.added == 1
