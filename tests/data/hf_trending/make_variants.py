"""Rebuild the edited copies of the real trending-models answer (run from this folder).

Every variant is written with HF's own formatting (compact separators, ASCII escapes), so the
entries it does not touch keep their bytes.
"""

import json
from pathlib import Path

HERE = Path(__file__).parent
REAL = "models_trending_2026-08-02.json"


def load() -> list[dict]:
    return json.loads((HERE / REAL).read_text(encoding="utf-8"))


def write(name: str, models: list[dict]) -> None:
    (HERE / name).write_text(json.dumps(models, separators=(",", ":")), encoding="utf-8")


def by_id(models: list[dict], repo_id: str) -> dict:
    return next(model for model in models if model["id"] == repo_id)


later = load()
by_id(later, "moonshotai/Kimi-K3")["likes"] += 211
by_id(later, "moonshotai/Kimi-K3")["trendingScore"] += 95
by_id(later, "deepseek-ai/DeepSeek-V4-Flash-0731")["likes"] += 57
write("models_trending_2026-08-02_later.json", later)

# microsoft/Mage-VL cites 2606.13392 (MiniMax Sparse Attention, listed on HF Daily Papers on
# 2026-06-12 in tests/data/hf/api_2026-06-12.json) instead of its own 2607.24904.
cites = load()
mage = by_id(cites, "microsoft/Mage-VL")
mage["tags"] = ["arxiv:2606.13392" if tag == "arxiv:2607.24904" else tag for tag in mage["tags"]]
write("models_trending_cites_2606.13392.json", cites)
