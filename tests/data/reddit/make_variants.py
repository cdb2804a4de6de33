"""Rebuild the edited copies of the real r/LocalLLaMA listing (run from this folder).

Variants keep Reddit's formatting (", " and ": " separators, ASCII escapes), so posts that
are not edited keep their bytes.
"""

import json
from pathlib import Path

HERE = Path(__file__).parent
REAL = "top_localllama_2026-04-25.json"


def load() -> dict:
    return json.loads((HERE / REAL).read_text(encoding="utf-8"))


def write(name: str, listing: dict) -> None:
    (HERE / name).write_text(json.dumps(listing), encoding="utf-8")


def post(listing: dict, post_id: str) -> dict:
    return next(child["data"] for child in listing["data"]["children"] if child["data"]["id"] == post_id)


later = load()
post(later, "1suqfba").update(score=2877, ups=2877, num_comments=410)
post(later, "1suyu7a").update(score=512, ups=512)
write("top_localllama_2026-04-25_later.json", later)

# The image post becomes a link post to an article (as Reddit writes one: url and
# url_overridden_by_dest, the article's domain, post_hint "link"), and the text post ends with
# a line citing a paper on arXiv, its code on GitHub and a model on Hugging Face.
links = load()
image = post(links, "1suolda")
article = "https://www.example.org/phyllotaxis-led?utm_source=reddit"
image.update(url=article, url_overridden_by_dest=article, domain="example.org", post_hint="link",
             is_reddit_media_domain=False)
text = post(links, "1suyu7a")
text["selftext"] += ("\n\nPaper: https://arxiv.org/abs/2606.13392v1, code: https://github.com/MiniMax-AI/MSA, "
                     "weights: https://huggingface.co/MiniMaxAI/MiniMax-M2.")
write("top_localllama_links.json", links)
