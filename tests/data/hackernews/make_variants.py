"""Rebuild the edited copies of the real Algolia answer (run from this folder).

Variants keep Algolia's formatting (compact separators, ASCII escapes), so hits that are not
edited keep their bytes.
"""

import json
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).parent
REAL = "search_story_points20_2026-08-02.json"


def load() -> dict:
    return json.loads((HERE / REAL).read_text(encoding="utf-8"))


def write(name: str, answer: dict) -> None:
    (HERE / name).write_text(json.dumps(answer, separators=(",", ":")) + "\n", encoding="utf-8")


def hit(answer: dict, story_id: str) -> dict:
    return next(h for h in answer["hits"] if h["objectID"] == story_id)


later = load()
hit(later, "49148159").update(points=64, num_comments=51)
hit(later, "49147622").update(points=102)
write("search_story_points20_2026-08-02_later.json", later)

# One Show HN re-pointed at the article GeekNews topic 34485 is about (tests/data/geeknews/
# topic_34485.html: https://example.org/phyllotaxis-led), written the way HN readers submit it
# (www., a tracking parameter), and posted on 2026-09-29, the day of that topic; the other hits
# are cut.
pair = load()
show = hit(pair, "49146267")
posted = datetime(2026, 9, 29, 8, 41, 7, tzinfo=timezone.utc)
show.update(title="Show HN: Phyllotaxis – an LED display that reacts to sound",
            url="https://www.example.org/phyllotaxis-led?utm_source=hackernews",
            created_at=posted.strftime("%Y-%m-%dT%H:%M:%SZ"), created_at_i=int(posted.timestamp()),
            updated_at="2026-09-29T10:02:11Z")
del show["story_text"], show["_highlightResult"]["story_text"]
show["_highlightResult"]["title"]["value"] = show["title"]
show["_highlightResult"]["url"]["value"] = show["url"]
pair["hits"] = [show]
write("search_story_phyllotaxis_2026-09-29.json", pair)
