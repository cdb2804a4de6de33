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

# Base models seen in the same list: the fine-tune's base (`Nanbeige/Nanbeige4.2-3B-Base`, in the
# shape of its fine-tune's entry, without the fine-tune's own tags), `unsloth/Kimi-K3` declaring
# only `base_model:moonshotai/Kimi-K3` (a same-name re-upload, its `quantized` tag dropped), and
# `owensong/Inflect-Micro-v2` declared an adapter of `moonshotai/Kimi-K3`.
bases = load()
tune = by_id(bases, "Nanbeige/Nanbeige4.2-3B")
base = dict(tune, _id="6a5f30273c69d79f91353ecb", id="Nanbeige/Nanbeige4.2-3B-Base", modelId="Nanbeige/Nanbeige4.2-3B-Base",
            likes=88, trendingScore=41, tags=[t for t in tune["tags"] if not t.startswith(("arxiv:", "base_model:"))])
bases.insert(bases.index(tune) + 1, base)
copy = by_id(bases, "unsloth/Kimi-K3")
copy["tags"] = [tag for tag in copy["tags"] if tag != "base_model:quantized:moonshotai/Kimi-K3"]
adapter = by_id(bases, "owensong/Inflect-Micro-v2")
adapter["tags"] = adapter["tags"] + ["base_model:moonshotai/Kimi-K3", "base_model:adapter:moonshotai/Kimi-K3"]
write("models_trending_base_models.json", bases)
