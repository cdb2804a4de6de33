"""Rebuild the edited copies in this folder from the real GeekNews feed `gn_atom_2026-09-29.xml`
(a copy of ../../../shared/samples/geeknews/geeknews_atom_rss_news_2026-09-29.xml).

Run from this folder: `python make_variants.py`. Every variant keeps the real entry structure.
"""

import re
from pathlib import Path

HERE = Path(__file__).parent
SAMPLE = (HERE / "gn_atom_2026-09-29.xml").read_text(encoding="utf-8")
ENTRY = re.compile(r"<entry>.*?</entry>", re.S)


def entries(text: str) -> list[str]:
    return ENTRY.findall(text)


def with_entries(text: str, new: list[str]) -> str:
    head = text[:text.index("<entry>")]
    tail = text[text.rindex("</entry>") + len("</entry>"):]
    return head + "".join(new) + tail


def later_same_day() -> str:
    """The feed two hours later: one new topic on top, one title edited by its poster."""
    first = entries(SAMPLE)[0]
    new = (first.replace("34489", "34490").replace("2026-09-29T21:32:57", "2026-09-29T23:40:12")
           .replace("AI 기업들이 광고업체에 데이터를 유출함 [pdf]", "Show GN: 터미널에서 논문 읽기 - arxiv-tui"))
    text = SAMPLE.replace("Phyllotaxis - 소리에 반응하는 LED 디스플레이", "Phyllotaxis - 소리에 반응하는 LED 디스플레이 (영상 추가)")
    return with_entries(text, [new] + entries(text)).replace(
        "<updated>2026-09-29T21:32:57+09:00</updated>\n<icon>", "<updated>2026-09-29T23:40:12+09:00</updated>\n<icon>")


def next_day() -> str:
    """The first 20 topics as if posted a day later, under topic ids of their own."""
    text = with_entries(SAMPLE, entries(SAMPLE)[:20])
    text = re.sub(r"topic\?id=(\d+)", lambda m: f"topic?id={int(m.group(1)) + 100}", text)
    return text.replace("2026-09-29T", "2026-09-30T").replace("2026-09-28T", "2026-09-29T")


if __name__ == "__main__":
    (HERE / "gn_atom_2026-09-29_later.xml").write_text(later_same_day(), encoding="utf-8")
    (HERE / "gn_atom_2026-09-30.xml").write_text(next_day(), encoding="utf-8")
