"""Rebuild the derived trending pages from the real daily capture (run from this folder).

Both variants are byte-level edits of `trending_daily_2026-07.html`; SOURCES.md says what each
one is for.
"""

from pathlib import Path

HERE = Path(__file__).parent
REAL = (HERE / "trending_daily_2026-07.html").read_bytes()


def edited(*replacements: tuple[bytes, bytes]) -> bytes:
    page = REAL
    for old, new in replacements:
        assert old in page, old
        page = page.replace(old, new)
    return page


# later the same day: the first repository gained more stars
(HERE / "trending_daily_2026-07_later.html").write_bytes(edited(
    (b"        349 stars today", b"        512 stars today"),
    (b"        6,818</a>", b"        6,981</a>")))

# the third row renamed to the repository of paper 2606.13681 in tests/data/hf (its githubRepo)
(HERE / "trending_daily_2026-07_evoarena.html").write_bytes(edited(
    (b"abseil/abseil-cpp", b"Aiden0526/EvoArena"),
    (b"abseil%2Fabseil-cpp", b"Aiden0526%2FEvoArena"),
    (b"        abseil /\n</span>\n      abseil-cpp</a>", b"        Aiden0526 /\n</span>\n      EvoArena</a>")))
