"""Rebuild the edited copies in this folder from the real API answer `api_2026-06-12.json`.

Run from this folder: `python make_variants.py`. Every variant keeps the real entry structure;
see README.md for what each file is for.
"""

import html
import json
from pathlib import Path

HERE = Path(__file__).parent
SAMPLE = json.loads((HERE / "api_2026-06-12.json").read_text(encoding="utf-8"))


def dump(name: str, data) -> None:
    # HF answers compact JSON on one line, like the real sample.
    (HERE / name).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def other_day(entries: list, day: str) -> list:
    """The same papers as if listed on `day`, under other arXiv ids (ids are keys, so a second
    day needs papers of its own)."""
    text = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    for entry in entries:
        old = entry["paper"]["id"]
        prefix, number = old.split(".")
        text = text.replace(old, f"{prefix}.{(int(number) + 50000) % 100000:05d}")
    text = text.replace('"submittedOnDailyAt":"2026-06-12T', f'"submittedOnDailyAt":"{day}T')
    return json.loads(text)


# A day with more papers than one page (limit=20): page 0 is full, page 1 has the rest.
dump("api_2026-06-12_limit20_p0.json", SAMPLE[:20])
dump("api_2026-06-12_limit20_p1.json", SAMPLE[20:])

# A day with exactly one full page (limit=20): the next page is past the end, `[]`.
dump("api_2026-06-11_limit20_p0.json", other_day(SAMPLE[:20], "2026-06-11"))
dump("api_2026-06-11_limit20_p1.json", [])

# Saturday: no papers.
dump("api_2026-06-13.json", [])

# Later the same day: upvotes and comments went up on two papers.
later = json.loads(json.dumps(SAMPLE))
for entry in later:
    if entry["paper"]["id"] == "2606.13681":
        entry["paper"]["upvotes"] = 131
        entry["numComments"] = 5
    if entry["paper"]["id"] == "2606.13392":
        entry["paper"]["upvotes"] = 104
dump("api_2026-06-12_later.json", later)

# Shape changes: the `{results, next}` wrapper a third-party doc wrongly describes, and an
# answer cut off mid-way.
dump("api_wrong_shape.json", {"results": SAMPLE[:3], "next": None})
raw = (HERE / "api_2026-06-12.json").read_bytes()
(HERE / "api_truncated.json").write_bytes(raw[: len(raw) // 3])


def listing_page(day: str, entries: list) -> str:
    props = html.escape(json.dumps({"dailyPapers": entries}, ensure_ascii=False, separators=(",", ":")), quote=True)
    cards = []
    for entry in entries:
        paper = entry["paper"]
        title = html.escape(paper["title"])
        cards.append(
            f'<article class="relative flex flex-col overflow-hidden rounded-xl border">'
            f'<a href="/papers/{paper["id"]}" class="block"><img src="{entry["thumbnail"]}" alt="" loading="lazy"></a>'
            f'<div class="px-2 pb-2"><h3 class="mb-1 text-lg font-semibold leading-[1.2]">'
            f'<a href="/papers/{paper["id"]}" class="line-clamp-3 cursor-pointer text-balance">{title}</a></h3>'
            f'<div class="leading-none">{paper["upvotes"]}</div></div></article>'
        )
    template = (HERE / "listing_page_template.html").read_text(encoding="utf-8")
    return template.replace("{DAY}", day).replace("{PROPS}", props).replace("{CARDS}", "\n".join(cards))


(HERE / "papers_date_2026-06-12.html").write_text(listing_page("2026-06-12", SAMPLE), encoding="utf-8")
(HERE / "papers_date_2026-06-13.html").write_text(listing_page("2026-06-13", []), encoding="utf-8")


# Counts as a client generated from HF's API spec sends them: numbers, so `118.0`, not `118`.
floats = json.loads(json.dumps(SAMPLE))
for entry in floats:
    paper = entry["paper"]
    for holder, key in ((paper, "upvotes"), (entry, "numComments"), (paper, "githubStars")):
        if key in holder:
            holder[key] = float(holder[key])
dump("api_2026-06-12_floats.json", floats)

# The same day after HF withdrew its most upvoted paper (`paper.withdrawnAt` set, the entry kept).
# No real capture holds a withdrawn paper; the field's name is from HF's API model.
withdrawn = json.loads(json.dumps(SAMPLE))
for entry in withdrawn:
    if entry["paper"]["id"] == "2606.13681":
        entry["paper"]["withdrawnAt"] = "2026-06-12T15:04:05.000Z"
dump("api_2026-06-12_withdrawn.json", withdrawn)

# Abstracts that open with boilerplate, as the person's real week had them (issue 23), on three
# papers of the real day without HF's `ai_summary` (older papers and some new ones have none):
# each abstract's own real last sentence, a project page or a code link, moved to the front, and
# on 2606.12243 the venue note `Accepted at ICML 2026.` before it.
BOILERPLATE_FIRST = {"2606.12303": "", "2606.12488": "", "2606.12243": "Accepted at ICML 2026. "}
boilerplate = []
for entry in json.loads(json.dumps(SAMPLE)):
    paper = entry["paper"]
    if paper["id"] not in BOILERPLATE_FIRST:
        continue
    for key in ("ai_summary", "ai_summary_model", "ai_keywords"):
        paper.pop(key, None)
    abstract = paper["summary"].rstrip()
    head, _, last = abstract.rpartition(". ")
    paper["summary"] = BOILERPLATE_FIRST[paper["id"]] + last.strip() + "\n" + head + "."
    boilerplate.append(entry)
dump("api_2026-06-12_boilerplate_first.json", boilerplate)
