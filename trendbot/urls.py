"""URL canonicalization and identity keys: the same thing reached by different URLs is one thing.

Used for item identity (a re-fetch updates in place) and for merging stories (`trendbot/merge.py`).
Rules follow DESIGN.md: lower-case host, drop `www.`/`m.`, drop fragments and tracking
parameters, and read every X mirror (twitter.com, Nitter instances, configured mirrors) as x.com.
An identity key names what a URL is about, whatever page shows it: `arxiv:2606.13392` for
arxiv.org abs/pdf/html pages, Hugging Face paper pages and alphaxiv-style mirrors (versions
stripped), `tweet:ID`, `github:owner/repo`, and `url:<canonical URL>` for everything else.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {"ref", "ref_src", "ref_url", "s", "t", "si", "fbclid", "gclid", "dclid", "msclkid",
     "mc_cid", "mc_eid", "igshid", "yclid", "_hsenc", "_hsmi", "mkt_tok", "spm", "share"}
)
TRACKING_PREFIXES = ("utm_",)


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


SECRET_PARAM = re.compile(r"(^|_|-)(key|apikey|token|secret|password|passwd|pass|auth|sig|signature|session|"
                          r"credential)s?($|_|-)", re.IGNORECASE)


def without_secrets(url: str) -> str:
    """`url` as it may be shown in a log: a user name and password become `***`, and so does
    the value of a query parameter that names a key, token, signature or password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(SECRET_PARAM.search(name) for name, _ in pairs):
            query = urlencode([(name, "***" if SECRET_PARAM.search(name) else value) for name, value in pairs],
                              safe="*:/")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def safe_http_url(url: str) -> str | None:
    """`url` stripped if it is an http(s) URL that can be written out (its host encodes as
    IDNA, no lone surrogates), else None: such a link is dropped, never a crash later."""
    url = url.strip()
    if not is_http_url(url):
        return None
    try:
        host = urlsplit(url).hostname or ""
        if not host.isascii():
            host.encode("idna")
        url.encode("utf-8")
    except (UnicodeError, ValueError):
        return None
    return url


def strip_tracking(url: str) -> str:
    """Remove tracking parameters and the fragment, keep everything else as written."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


# Hosts that serve X posts under X's own paths (/USER/status/ID). Nitter instances come and go
# (FORMATS.md §3.3), so any host with a `nitter` label counts too, plus the `mirrors` of `x` sources.
X_HOST = "x.com"
X_HOSTS = frozenset({"x.com", "twitter.com", "mobile.twitter.com", "mobile.x.com", "fxtwitter.com",
                     "vxtwitter.com", "fixupx.com", "fixvx.com", "xcancel.com", "rss.xcancel.com"})
_X_STATUS = re.compile(r"^/(?:[A-Za-z0-9_]{1,15}|i(?:/web)?)/status(?:es)?/(\d{1,25})(?:/|$)")
_X_PROFILE = re.compile(r"^/[A-Za-z0-9_]{1,15}/?$")

ARXIV_HOSTS = frozenset({"arxiv.org", "export.arxiv.org", "ar5iv.org", "ar5iv.labs.arxiv.org",
                         "alphaxiv.org", "arxiv-sanity-lite.com"})
HF_PAPER_HOSTS = frozenset({"huggingface.co", "hf.co"})
_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[a-z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_PATH = re.compile(rf"^/(?:abs|pdf|html|overview|paper|papers)/{_ARXIV_ID}(?:\.pdf)?/?$", re.I)
_HF_PAPER_PATH = re.compile(rf"^/papers/{_ARXIV_ID}/?$", re.I)

GITHUB_HOST = "github.com"
# First path segments of github.com that are GitHub's own pages, not an owner.
_GITHUB_RESERVED = frozenset({"about", "apps", "blog", "collections", "contact", "customer-stories", "enterprise",
                              "events", "explore", "features", "login", "marketplace", "new", "notifications",
                              "orgs", "organizations", "pricing", "pulls", "issues", "search", "security",
                              "settings", "signup", "site", "sponsors", "topics", "trending", "users", "readme"})
# Pages that are the repository itself; an issue or a pull request is its own thing.
_GITHUB_REPO_PAGES = frozenset({"tree", "blob", "releases", "wiki", "commits", "raw"})

# Strongest first: the rule that joined two items is the strongest key they share.
KEY_KINDS = ("arxiv", "tweet", "github", "url")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_PLAIN_PATH = re.compile(r"[A-Za-z0-9/%:@!$&'()*+,;=\-._~]*")  # nothing `quote` would change


@lru_cache(maxsize=64)
def _mirror_bases(mirrors: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(host[:port], path prefix) of each configured mirror base URL."""
    bases = []
    for base in mirrors:
        try:
            parts = urlsplit(base.strip())
            host = (parts.hostname or "").lower()
            port = parts.port
        except ValueError:
            continue
        if host:
            bases.append((f"{host}:{port}" if port else host, parts.path.rstrip("/")))
    return tuple(bases)


def _bare_host(host: str) -> str:
    if not host.startswith(("www.", "m.")):
        return host
    while True:
        for prefix in ("www.", "m."):
            if host.startswith(prefix) and host.count(".") >= 2:
                host = host[len(prefix):]
                break
        else:
            return host


def is_x_host(host: str) -> bool:
    return host in X_HOSTS or ("nitter" in host and "nitter" in host.split("."))


def canonicalize_url(url: str, mirrors: Iterable[str] = ()) -> str:
    """A canonical form for identity: https, bare lower-case host, no tracking, no fragment.

    X posts on twitter.com, Nitter instances or any of `mirrors` (base URLs, which may carry a
    path prefix) become `https://x.com/...`. Idempotent: canonicalizing twice changes nothing.
    """
    return _canonical(url, mirrors if isinstance(mirrors, tuple) else tuple(mirrors))


# The common shape, canonicalized without urllib: lower-case host, no port, user or fragment, a
# path `quote` would not change and a query of plain `name=value` pairs (what `_canonical` would
# make of it, checked by a property test).
_SIMPLE = re.compile(r"(?:https?)://([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(/[A-Za-z0-9/%:@!$&'()*+,;=\-._~]*)?"
                     r"(?:\?([A-Za-z0-9._~=&-]*))?")


@lru_cache(maxsize=64)
def _mirror_hosts(mirrors: tuple[str, ...]) -> frozenset[str]:
    """The bare hosts of the configured mirrors: a URL on one of them takes the full path."""
    return frozenset(_bare_host(host) for host, _ in _mirror_bases(mirrors))


def _simple(url: str, mirrors: tuple[str, ...]) -> tuple[str, str, str] | None:
    """(host, path, query) of the canonical form of a URL of the common shape, else None."""
    simple = _SIMPLE.fullmatch(url)
    if simple is None:
        return None
    written, path, query = simple.groups()
    bare, host = _HOST_FORMS.get(written) or _host_forms(written)
    if mirrors and bare in _mirror_hosts(mirrors):
        return None
    if path is None:
        path = "/"
    elif path != "/" and path.endswith("/"):
        path = path.rstrip("/") or "/"
    if query:
        query = _plain_query(query)
        if query is None:
            return None
    return host, path, query or ""


_HOST_FORMS: dict[str, tuple[str, str]] = {}  # a host as written -> `_host_forms` (links are on few hosts)


def _host_forms(host: str) -> tuple[str, str]:
    """A lower-case host bare, and as `_simple` reads it: x.com for an X mirror (a configured
    mirror takes the full path, which `_simple` checks on the bare host)."""
    bare = _bare_host(host) if host.startswith(("www.", "m.")) else host
    form = X_HOST if bare != X_HOST and (bare in X_HOSTS or ("nitter" in bare and "nitter" in bare.split("."))) else bare
    if len(_HOST_FORMS) < 4096:  # (a hostile feed may name a million hosts)
        _HOST_FORMS[host] = (bare, form)
    return bare, form


def _plain_query(query: str) -> str | None:
    """What `_canonical` makes of a query of unreserved characters: its pairs without tracking
    ones, sorted, a name without a value given an empty one; None for a value holding `=`
    (urllib would quote it)."""
    if "&" not in query:  # one pair, the common case
        name, _, value = query.partition("=")
        if "=" in value:
            return None
        lowered = name.lower()
        return "" if lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES) else f"{name}={value}"
    pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            if "=" in value:
                return None
            lowered = name.lower()
            if lowered not in TRACKING_PARAMS and not lowered.startswith(TRACKING_PREFIXES):
                pairs.append((name, value))
    if len(pairs) > 1:
        pairs.sort()
    return "&".join(f"{name}={value}" for name, value in pairs)


@lru_cache(maxsize=65536)  # an item's URL is canonicalized for its id and again as it is stored
def _canonical(url: str, mirrors: tuple[str, ...]) -> str:
    url = url.strip()
    if simple := _simple(url, mirrors):
        host, path, query = simple
        return f"https://{host}{path}?{query}" if query else f"https://{host}{path}"
    return full_canonical(url, mirrors)


def full_canonical(url: str, mirrors: tuple[str, ...] = ()) -> str:
    """`canonicalize_url` through urllib, whatever the URL's shape (`_simple` must agree)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host, port = _host_and_port(parts)
    except ValueError:
        return url
    if not host:
        return url
    scheme = parts.scheme.lower()
    host_port = f"{host}:{port}" if port else host
    host = _bare_host(host)
    path = parts.path or "/"
    for mirror_host, prefix in _mirror_bases(mirrors):
        if host_port == mirror_host or (port is None and host == _bare_host(mirror_host)):
            rest = path[len(prefix):] if prefix and (path == prefix or path.startswith(prefix + "/")) else path
            if not prefix or rest != path:
                if _X_STATUS.match(rest) or _X_PROFILE.match(rest):
                    host, port, path = X_HOST, None, rest or "/"
            break
    if host != X_HOST and is_x_host(host):
        host, port = X_HOST, None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    if scheme == "http":
        scheme = "https"
    query = urlencode(sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)
    )) if parts.query else ""
    if path != "/" and path.endswith("/"):
        path = path.rstrip("/") or "/"
    if not _PLAIN_PATH.fullmatch(path):
        # spaces and non-ASCII as %XX, so the form survives being written and read back
        path = quote(path, safe=_PATH_SAFE)
    return urlunsplit((scheme, netloc, path, query, ""))


def _host_and_port(parts) -> tuple[str, int | None]:
    """`parts.hostname` (lower-case, no trailing dot) and `parts.port`, read without parsing the
    netloc twice in the common case (no user, no IPv6 brackets); the same ValueError otherwise."""
    netloc = parts.netloc
    if "@" in netloc or "[" in netloc:
        return (parts.hostname or "").lower().rstrip("."), parts.port
    host, _, port = netloc.partition(":")
    host = host.lower().rstrip(".")
    if not port:
        return host, None
    if not (port.isdigit() and port.isascii()):
        raise ValueError(f"Port could not be cast to integer value as {port!r}")
    number = int(port)
    if not 0 <= number <= 65535:
        raise ValueError("Port out of range 0-65535")
    return host, number


def _split_canonical(canonical: str) -> tuple[str, str, str]:
    """(host, path, query) of a canonical URL (`https://host[:port]/path?query`), cheaply."""
    rest = canonical.partition("://")[2]
    netloc, _, tail = rest.partition("/")
    path, _, query = ("/" + tail).partition("?")
    host = netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc
    return host, path, query


def _arxiv_of(host: str, path: str) -> str | None:
    match = None
    if host in ARXIV_HOSTS:
        match = _ARXIV_PATH.match(path)
    elif host in HF_PAPER_HOSTS:
        match = _HF_PAPER_PATH.match(path)
    return match.group(1).lower() if match else None


def _tweet_of(host: str, path: str) -> str | None:
    if host != X_HOST:
        return None
    match = _X_STATUS.match(path)
    return (match.group(1).lstrip("0") or "0") if match else None


def _repo_of(host: str, path: str) -> str | None:
    if host != GITHUB_HOST:
        return None
    segments = path[1:].split("/")
    if "" in segments:  # (an empty segment: `//`, or `/` at either end)
        segments = [s for s in segments if s]
    if len(segments) < 2 or segments[0].lower() in _GITHUB_RESERVED:
        return None
    if len(segments) > 2 and segments[2].lower() not in _GITHUB_REPO_PAGES:
        return None
    repo = segments[1][:-4] if segments[1].lower().endswith(".git") else segments[1]
    return f"{segments[0]}/{repo}".lower() if repo else None


def arxiv_id(url: str, mirrors: Iterable[str] = ()) -> str | None:
    """The arXiv id (version stripped) of an arXiv, Hugging Face paper or alphaxiv-style page."""
    return _arxiv_of(*_split_canonical(canonicalize_url(url, mirrors))[:2])


def tweet_id(url: str, mirrors: Iterable[str] = ()) -> str | None:
    return _tweet_of(*_split_canonical(canonicalize_url(url, mirrors))[:2])


def github_repo(url: str, mirrors: Iterable[str] = ()) -> str | None:
    """`owner/repo` of a link to a GitHub repository (its root, a file or a release)."""
    return _repo_of(*_split_canonical(canonicalize_url(url, mirrors))[:2])


def identity_keys(url: str, mirrors: Iterable[str] = ()) -> list[str]:
    """What a URL is about, strongest key first; [] for links that name nothing in particular.

    A site's front page or an X profile is shared by unrelated posts, so it gives no key.
    """
    return list(_identity(url, mirrors if isinstance(mirrors, tuple) else tuple(mirrors)))


# A URL already in its canonical form, as most links are (https, bare lower-case host, a plain
# path not ending in `/`, at most one plain `name=value` query pair, no fragment): its identity
# needs no canonical form made.
_CANONICAL = re.compile(r"https://([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(/[A-Za-z0-9/%:@!$&'()*+,;=\-._~]*"
                        r"[A-Za-z0-9%:@!$&'()*+,;=\-._~])(?:\?([A-Za-z0-9._~-]+)=[A-Za-z0-9._~-]*)?")


def _identity(url: str, mirrors: tuple[str, ...]) -> tuple[str, ...]:
    # (not cached: a rebuild meets most URLs once, and a cache's miss costs more than its hits save)
    if (plain := _CANONICAL.fullmatch(url)) is not None:
        host, path, pair = plain.groups()
        # (the host as canonical: not an X mirror, no `www.`, no configured mirror's full path;
        # the query pair, by its name, not a tracking one)
        if (_HOST_FORMS.get(host) or _host_forms(host))[1] == host and not (mirrors and host in _mirror_hosts(mirrors)) \
                and not (pair and is_tracking_param(pair)):
            return _keys(host, path, url, True)
    return _parsed_identity(url, mirrors)


def _parsed_identity(url: str, mirrors: tuple[str, ...]) -> tuple[str, ...]:
    """`_identity` of a URL of any shape, through its canonical form."""
    if simple := _simple(url, mirrors):  # the common shape: no canonical form to split again
        host, path, query = simple
        canonical = f"https://{host}{path}?{query}" if query else f"https://{host}{path}"
    else:
        canonical = _canonical(url.strip(), mirrors)
        if not canonical.startswith("https://") and not canonical.startswith("http://"):
            return ()
        host, path, query = _split_canonical(canonical)
    if not host:
        return ()
    return _keys(host, path, canonical, path != "/" or bool(query))


def _keys(host: str, path: str, canonical: str, page: bool) -> tuple[str, ...]:
    """The keys of a canonical URL on `host` with `path`; `page` when it is more than a site's
    front page, which is shared by unrelated posts and gives no `url:` key."""
    if host == X_HOST:
        tweet = _tweet_of(host, path)
        return (f"tweet:{tweet}",) if tweet else ()
    if host not in _NAMING_HOSTS:
        return (f"url:{canonical}",) if page else ()
    if host == GITHUB_HOST:
        name = f"github:{repo}" if (repo := _repo_of(host, path)) else None
    else:
        name = f"arxiv:{paper}" if (paper := _arxiv_of(host, path)) else None
    if page:
        return (name, f"url:{canonical}") if name else (f"url:{canonical}",)
    return (name,) if name else ()


# `identity_keys` as a tuple, for the merge, which asks of every item and link; `mirrors` must be a tuple.
identity = _identity
_NAMING_HOSTS = ARXIV_HOSTS | HF_PAPER_HOSTS | {GITHUB_HOST}  # hosts whose paths may name a paper or a repository


def key_kind(key: str) -> str:
    return key.split(":", 1)[0]
