"""Rebuild the derived Nitter feeds in this folder (run from this folder: `python make_variants.py`).

Posts without words of their own, in the markup Nitter's template gives them, added to or
edited into the recorded feeds. SOURCES.md says which template version each follows and what
each file is for.
"""

from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).parent
TWITTER_EPOCH_MS = 1288834974657


def snowflake(when: datetime, low: int = 395) -> int:
    """A tweet id that agrees with its time, as X's ids do (the time is the id's high bits)."""
    return ((int(when.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22) | low


def rfc822(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


def item(title: str, author: str, description: str, when: datetime, ident: int) -> str:
    """One <item> exactly as rss.nimf@1c06a67 writes it (ids past 2e18: a bare-id guid)."""
    return (f"      <item>\n"
            f"        <title>{title}</title>\n"
            f"        <dc:creator>@{author}</dc:creator>\n"
            f"        <description><![CDATA[{description}]]></description>\n"
            f"        <pubDate>{rfc822(when)}</pubDate>\n"
            f'        <guid isPermaLink="false">{ident}</guid>\n'
            f"        <link>http://MIRROR/{author}/status/{ident}#m</link>\n"
            f"      </item>\n")


def at(hour: int, minute: int, day: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, 7, tzinfo=timezone.utc)


# -- 2023 template (rss.nimf@b290f6f): the real feed, its photo post turned into a video post ----
# A video is only its thumbnail, `<img src=".../pic/ext_tw_video_thumb%2F…">`, titled "Video".
real_2023 = (HERE / "nitter_2023-06_extrafabulous_nitter.net.xml").read_text(encoding="utf-8")
video_2023 = real_2023.replace(
    "<title>Image</title>", "<title>Video</title>", 1).replace(
    "https://nitter.net/pic/media%2FFxn4X5JWYAcPDCS.jpg",
    "https://nitter.net/pic/ext_tw_video_thumb%2F1664634517112827904%2Fpu%2Fimg%2FvjxT2cc8C2VPy3iZ.jpg", 1)
assert video_2023.count("ext_tw_video_thumb") == 1 and "<title>Video</title>" in video_2023
(HERE / "nitter_2023-06_extrafabulous_video.xml").write_text(video_2023, encoding="utf-8")

# -- 2026-02 template (rss.nimf@1c06a67): posts with no words, added to the akhaliq feed ---------
# An empty text still gives `<p></p>`; the title is "Video" / "Gif" / "Image" for bare media, the
# bare prefix for a retweet ("RT by @user: ", nothing after it), and empty for a quote alone
# (zedeus/nitter#1013).
video_at, retweet_at, quote_at, gif_at = at(12, 40), at(12, 20), at(12, 5), at(11, 50)
video_id, retweet_id = snowflake(video_at), snowflake(retweet_at)
quote_id, gif_id = snowflake(quote_at), snowflake(gif_at)
quoted_id = snowflake(at(10, 30), low=911)
wordless = "".join([
    item("Video", "_akhaliq",
         "<p></p>\n"
         f'<a href="http://MIRROR/_akhaliq/status/{video_id}#m">\n'
         "<br>Video<br>\n"
         f'  <img src="http://MIRROR/pic/amplify_video_thumb%2F{snowflake(video_at, 0)}%2Fimg%2FHbJnPPemlT0ssZZf.jpg"'
         ' style="max-width:250px;" />\n'
         "</a>", video_at, video_id),
    item("RT by @_akhaliq: ", "GoogleDeepMind",
         "<p></p>\n"
         '<img src="http://MIRROR/pic/media%2FG5rB2xWXcAAq1Zt.jpg" style="max-width:250px;" />',
         retweet_at, retweet_id),
    item("", "_akhaliq",
         "<p></p>\n"
         "<hr/>\n<blockquote>\n<b>Andrej Karpathy (@karpathy)</b>\n<p>\n"
         "<p>nanochat d32 is now the default: a better model for the same $100</p>\n"
         "</p>\n<footer>\n"
         f'— <cite><a href="http://MIRROR/karpathy/status/{quoted_id}#m">'
         f"http://MIRROR/karpathy/status/{quoted_id}#m</a>\n"
         "</footer>\n</blockquote>", quote_at, quote_id),
    item("Gif", "_akhaliq",
         "<p></p>\n"
         '<video poster="http://MIRROR/pic/tweet_video_thumb%2FG5r9kQ1WcAAm7xD.jpg" autoplay muted loop'
         ' style="max-width:250px;">\n'
         '  <source src="http://MIRROR/pic/video.twimg.com%2Ftweet_video%2FG5r9kQ1WcAAm7xD.mp4"'
         ' type="video/mp4"></video>', gif_at, gif_id),
])
akhaliq = (HERE / "nitter_2026-03_akhaliq.xml").read_text(encoding="utf-8")
first_item = akhaliq.index("      <item>")
(HERE / "nitter_2026-03_akhaliq_wordless.xml").write_text(
    akhaliq[:first_item] + wordless + akhaliq[first_item:], encoding="utf-8")

# -- 2026-06 template (rss.nimf@3e290ea): link cards ------------------------------------------
# A card follows the text (no `<p></p>` for an empty text since 2026-03) as `<hr/><b>Link</b><br><a …><img …><br><b>title</b></a><p>…</p>
# <small>…</small>`; a post that is only a card is titled with the card's title by Nitter itself.
card_at, card_only_at = at(13, 10, 22, 6), at(13, 30, 22, 6)
card_id, card_only_id = snowflake(card_at), snowflake(card_only_at)


def card(title: str, text: str, url: str, dest: str, image: str) -> str:
    return ("<hr/>\n<b>Link</b><br>\n"
            f'<a href="{url}">\n'
            f'<img src="http://MIRROR/pic/card_img%2F{image}%2FqK3wX9Lm%3Fformat%3Djpg%26name%3D600x314"'
            ' style="max-width:250px;" />\n'
            f"<br>\n<b>{title}</b>\n</a>\n<p>{text}</p>\n"
            f'<small><a href="{url}">{dest}</a></small>')


blog = "https://huggingface.co/blog/smollm3"
cards = "".join([
    item("Worth reading on small models", "_akhaliq",
         "<p>Worth reading on small models</p>\n"
         + card("SmolLM3: smol, multilingual, long-context reasoner",
                "We release SmolLM3, a 3B model that beats Llama-3.2-3B.", blog, "huggingface.co",
                "2031430000000000000"), card_at, card_id),
    item("Gemma 3n is out", "_akhaliq",
         card("Gemma 3n is out", "A mobile-first multimodal model.",
                            "https://developers.googleblog.com/en/introducing-gemma-3n/",
                            "developers.googleblog.com", "2031435000000000000"),
         card_only_at, card_only_id),
])
(HERE / "nitter_2026-06_akhaliq_cards.xml").write_text(
    akhaliq[:first_item] + cards + "  </channel>\n</rss>\n", encoding="utf-8")
