"""Canonical URLs and identity keys: one thing, one form, whatever link reached it."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trendbot.urls import arxiv_id, canonicalize_url, full_canonical, github_repo, identity_keys, tweet_id

MIRRORS = ("http://127.0.0.1:8080/nitter", "https://xcancel.example")


@pytest.mark.parametrize("url, canonical", [
    ("HTTP://WWW.Example.COM/a/b/?utm_source=x&id=3#top", "https://example.com/a/b?id=3"),
    ("https://m.example.com/post?ref=hn&s=20&t=abc&fbclid=1&gclid=2&si=q", "https://example.com/post"),
    ("https://news.hada.io/topic?id=16368&utm_source=weekly&utm_medium=email&utm_campaign=202435",
     "https://news.hada.io/topic?id=16368"),
    ("https://example.com/?b=2&a=1", "https://example.com/?a=1&b=2"),
    ("https://example.com", "https://example.com/"),
    ("https://twitter.com/_akhaliq/status/1800?s=20", "https://x.com/_akhaliq/status/1800"),
    ("https://mobile.twitter.com/_akhaliq/status/1800", "https://x.com/_akhaliq/status/1800"),
    ("https://nitter.poast.org/_akhaliq/status/1800#m", "https://x.com/_akhaliq/status/1800"),
    ("http://127.0.0.1:8080/nitter/_akhaliq/status/1800#m", "https://x.com/_akhaliq/status/1800"),
    ("https://xcancel.example/_akhaliq/status/1800#m", "https://x.com/_akhaliq/status/1800"),
    # the same host without the mirror's path prefix is some other page, not a post
    ("http://127.0.0.1:8080/api/daily_papers", "https://127.0.0.1:8080/api/daily_papers"),
    ("https://example.com:443/x", "https://example.com/x"),
])
def test_canonical_forms(url, canonical):
    assert canonicalize_url(url, MIRRORS) == canonical


@pytest.mark.parametrize("url, keys", [
    ("https://arxiv.org/abs/2606.00467", ["arxiv:2606.00467", "url:https://arxiv.org/abs/2606.00467"]),
    ("https://arxiv.org/pdf/2606.00467v2", ["arxiv:2606.00467", "url:https://arxiv.org/pdf/2606.00467v2"]),
    ("https://arxiv.org/pdf/2606.00467v1.pdf", ["arxiv:2606.00467", "url:https://arxiv.org/pdf/2606.00467v1.pdf"]),
    ("https://arxiv.org/html/2606.00467v1", ["arxiv:2606.00467", "url:https://arxiv.org/html/2606.00467v1"]),
    ("https://huggingface.co/papers/2606.00467", ["arxiv:2606.00467", "url:https://huggingface.co/papers/2606.00467"]),
    ("https://www.alphaxiv.org/abs/2606.00467v3", ["arxiv:2606.00467", "url:https://alphaxiv.org/abs/2606.00467v3"]),
    ("https://arxiv.org/abs/hep-th/9901001v2", ["arxiv:hep-th/9901001", "url:https://arxiv.org/abs/hep-th/9901001v2"]),
    ("https://twitter.com/_akhaliq/status/1800000000000000467", ["tweet:1800000000000000467"]),
    ("https://x.com/i/web/status/1800000000000000467", ["tweet:1800000000000000467"]),
    ("https://github.com/YujunZhou/tellonce", ["github:yujunzhou/tellonce", "url:https://github.com/YujunZhou/tellonce"]),
    ("https://github.com/YujunZhou/tellonce/blob/main/README.md",
     ["github:yujunzhou/tellonce", "url:https://github.com/YujunZhou/tellonce/blob/main/README.md"]),
    # an issue is its own thing; GitHub's own pages and site roots and profiles name nothing
    ("https://github.com/pytorch/pytorch/issues/1", ["url:https://github.com/pytorch/pytorch/issues/1"]),
    ("https://github.com/topics/llm", ["url:https://github.com/topics/llm"]),
    ("https://openai.com/", []),
    ("https://x.com/_akhaliq", []),
    ("javascript:alert(1)", []),
])
def test_identity_keys(url, keys):
    assert identity_keys(url, MIRRORS) == keys


def test_different_papers_and_posts_have_different_keys():
    assert arxiv_id("https://arxiv.org/abs/2606.00467") != arxiv_id("https://arxiv.org/abs/2606.00468")
    assert tweet_id("https://nitter.net/a/status/1") != tweet_id("https://nitter.net/a/status/2")
    assert github_repo("https://github.com/a/b") != github_repo("https://github.com/a/c")
    assert arxiv_id("https://example.com/abs/2606.00467") is None


def test_the_same_post_through_every_mirror_is_one_tweet():
    forms = ["https://x.com/_akhaliq/status/1800", "https://twitter.com/_akhaliq/status/1800?s=20&t=xyz",
             "https://mobile.twitter.com/_akhaliq/status/1800", "https://nitter.net/_akhaliq/status/1800#m",
             "http://127.0.0.1:8080/nitter/_akhaliq/status/1800#m"]
    assert {tuple(identity_keys(url, MIRRORS)) for url in forms} == {("tweet:1800",)}


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
_hosts = st.sampled_from(["Example.com", "www.m.example.com", "m.www.example.com", "twitter.com", "nitter.net",
                          "127.0.0.1:8080", "[::1]", "WWW.x.com", "arxiv.org", "github.com", "huggingface.co"])
_paths = st.one_of(_text, st.sampled_from(["abs/2606.00467v2", "pdf/2606.00467", "papers/2606.00467",
                                            "u/status/123", "nitter/u/status/9", "owner/repo/", "a//b/"]))
_params = st.lists(st.tuples(st.from_regex(r"[a-z]{1,6}", fullmatch=True), _text), max_size=4)
_tracking = st.lists(st.tuples(st.sampled_from(["utm_source", "utm_medium", "UTM_Campaign", "ref", "ref_src", "s",
                                                "t", "si", "fbclid", "gclid"]), _text), min_size=1, max_size=4)


def _url(scheme, host, path, params, fragment):
    """A well-formed URL: what a page links to has no raw spaces or non-ASCII in its path."""
    from urllib.parse import quote, urlencode

    return f"{scheme}://{host}/{quote(path, safe='/%:@')}" + (f"?{urlencode(params)}" if params else "") + (f"#{fragment}" if fragment else "")


@settings(max_examples=400)
@given(st.sampled_from(["http", "https", "HTTPS"]), _hosts, _paths, _params, _text)
def test_canonicalization_is_idempotent(scheme, host, path, params, fragment):
    once = canonicalize_url(_url(scheme, host, path, params, fragment), MIRRORS)
    assert canonicalize_url(once, MIRRORS) == once
    assert identity_keys(once, MIRRORS) == identity_keys(_url(scheme, host, path, params, fragment), MIRRORS)


@settings(max_examples=400)
@given(st.sampled_from(["http", "https"]), _hosts, _paths, _params, _tracking, st.randoms(use_true_random=False), _text)
def test_tracking_parameters_never_change_identity(scheme, host, path, params, tracking, rnd, fragment):
    params = [(k, v) for k, v in params if k not in {"s", "t", "si", "ref"}]
    mixed = params + tracking
    rnd.shuffle(mixed)
    plain, tracked = _url(scheme, host, path, params, ""), _url(scheme, host, path, mixed, fragment)
    assert canonicalize_url(tracked, MIRRORS) == canonicalize_url(plain, MIRRORS)
    assert identity_keys(tracked, MIRRORS) == identity_keys(plain, MIRRORS)


@settings(max_examples=500)
@given(st.sampled_from(["http", "https"]),
       st.one_of(st.sampled_from(["arxiv.org", "huggingface.co", "github.com", "x.com", "twitter.com", "nitter.net",
                                  "mirror.invalid", "www.mirror.invalid"]),
                 st.from_regex(r"(?:www\.|m\.)?[a-z0-9](?:[a-z0-9.-]{0,20}[a-z0-9])?", fullmatch=True)),
       st.one_of(st.sampled_from(["/abs/2606.00467v2", "/papers/2606.00467", "/owner/repo/tree/main", "/u/status/123/",
                                  "/owner/repo.git", "/", "", "/x/u/status/9"]),
                 st.from_regex(r"(?:/[A-Za-z0-9%:@!$&'()*+,;=\-._~]{0,12}){0,4}", fullmatch=True)),
       st.one_of(st.just(""), st.sampled_from(["?", "?id=12", "?utm_source=x", "?b=2&a=1&ref=t", "?a", "?=v&&a=",
                                               "?a=b=c", "?UTM_x=1&s=2"]),
                 st.from_regex(r"\?[A-Za-z0-9._~=&-]{0,16}", fullmatch=True)),
       st.sampled_from([(), ("https://mirror.invalid/x",), ("https://nitter.example",)]))
def test_the_quick_canonical_form_is_the_full_one(scheme, host, path, query, mirrors):
    """A plain URL, query and all, is canonicalized without urllib (the merge reads hundreds of
    thousands): the same result as the full path through urllib, with or without mirrors."""
    url = f"{scheme}://{host}{path}{query}"
    canonical = full_canonical(url, mirrors)
    assert canonicalize_url(url, mirrors) == canonical
    assert identity_keys(url, mirrors) == identity_keys(canonical, mirrors)


@settings(max_examples=500)
@given(st.one_of(st.sampled_from(["arxiv.org", "huggingface.co", "github.com", "x.com", "twitter.com", "nitter.net",
                                  "mirror.invalid", "www.github.com", "m.x.com", "ARXIV.org"]),
                 st.from_regex(r"(?:www\.|m\.)?[a-z0-9](?:[a-z0-9.-]{0,20}[a-z0-9])?", fullmatch=True)),
       st.one_of(st.sampled_from(["/abs/2606.00467v2", "/pdf/2606.00467v1.pdf", "/html/2606.00467", "/abs/ABS/2606",
                                  "/papers/2606.00467", "/owner/repo", "/Owner/Repo.git", "/search/repo", "/a/b/issues/1",
                                  "/a/b/tree/main", "/u/status/0123", "/u/status/9/photo/1", "/i/web/status/5", "/x/u/status/9",
                                  "/u"]),
                 st.from_regex(r"(?:/[A-Za-z0-9%:@!$&'()*+,;=\-._~]{1,12}){1,4}", fullmatch=True)),
       st.one_of(st.sampled_from(["", "?id=12", "?utm_source=x", "?ref=t", "?UTM_x=1", "?S=2", "?a=", "?a",
                                  "?a=b=c", "?b=2&a=1", "?id=1#top"]),
                 st.from_regex(r"\?[A-Za-z0-9._~-]{1,8}=[A-Za-z0-9._~-]{0,8}", fullmatch=True)),
       st.sampled_from([(), ("https://mirror.invalid/x",), ("https://nitter.example",), "its host", "its host/x"]))
@example("x.com", "/u/status/0123", "?id=12", ())
@example("github.com", "/owner/repo", "?tab=readme", ())
def test_a_url_in_its_canonical_form_has_the_keys_of_the_full_reading(host, path, query, mirrors):
    """Most links are already canonical, and their keys are read without making the canonical
    form again (the merge reads hundreds of thousands): the same keys as through it, the URL's
    host a configured mirror or not, its one query pair a tracking one or not."""
    from trendbot.urls import _parsed_identity

    if isinstance(mirrors, str):
        mirrors = (mirrors.replace("its host", f"https://{host}"),)
    url = f"https://{host}{path}{query}"
    assert identity_keys(url, mirrors) == list(_parsed_identity(url, mirrors))
