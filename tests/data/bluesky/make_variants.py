"""Rebuild the derived getAuthorFeed answers from the real one (run from this folder).

Every variant is an edited copy of `author_feed_benoist.dev_2024-11-03.json`; SOURCES.md says
what each one is for.
"""

import copy
import json
from pathlib import Path

HERE = Path(__file__).parent
REAL = json.loads((HERE / "author_feed_benoist.dev_2024-11-03.json").read_text(encoding="utf-8"))
PAPER = "https://arxiv.org/abs/2606.13681"
PAPER_TITLE = "EvoArena: Tracking Memory Evolution for Robust LLM Agents in Dynamic Environments"


def write(name: str, data: dict) -> None:
    (HERE / name).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def entry(rkey: str) -> dict:
    return copy.deepcopy(next(e for e in REAL["feed"] if e["post"]["uri"].endswith("/" + rkey)))


def sort_time(item: dict) -> str:
    return (item.get("reason") or {}).get("indexedAt") or item["post"]["indexedAt"]


# two pages: the first 15 entries with a cursor in the answer's own form (the time of its last
# entry), then the other 15 with the real answer's cursor
write("author_feed_p1.json", {"feed": REAL["feed"][:15], "cursor": sort_time(REAL["feed"][14])})
write("author_feed_p2.json", {"feed": REAL["feed"][15:], "cursor": REAL["cursor"]})

# an account with nothing to show
write("author_feed_empty.json", {"feed": []})

# the same answer later: the account's own photo post got more likes and a repost
later = copy.deepcopy(REAL)
for item in later["feed"]:
    if item["post"]["uri"].endswith("/3l7vxiuivk52v"):
        item["post"]["likeCount"], item["post"]["repostCount"] = 12, 1
write("author_feed_later.json", later)

# kelseyhightower.com's own link-card post (a real entry without its repost reason), pointed at
# an arXiv paper of tests/data/hf and dated on that paper's Daily Papers day
post = entry("3la2jkexw642p")
del post["reason"]
record, view = post["post"]["record"], post["post"]["embed"]
shown = "arxiv.org/abs/2606.13681"
record["text"] = f"Agents that keep their memory when the world changes: {shown}"
start = len(record["text"].encode("utf-8")) - len(shown.encode("utf-8"))
record["facets"][0]["index"] = {"byteStart": start, "byteEnd": start + len(shown.encode("utf-8"))}
record["facets"][0]["features"][0]["uri"] = PAPER
for external in (record["embed"]["external"], view["external"]):
    external.update(uri=PAPER, title=PAPER_TITLE, description="arXiv paper")
record["createdAt"] = post["post"]["indexedAt"] = "2026-06-12T03:00:00.000Z"
write("author_feed_kelseyhightower.com_arxiv.json", {"feed": [post]})
