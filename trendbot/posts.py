"""Which post and which heading a day's section goes under: the blog's templates, weeks and globs.

The person's blog decides the shape: a post per day, or a weekly post (`부스트캠프 4주차 후기`)
with a `## N일차` heading per weekday and `## 토요일` / `## 일요일` for the weekend, in a week that
starts on `[blog] week_starts`. Everything here is a function of `[blog]` and the day; only
`find_post` looks at the blog's folder (a glob finds the post the person started), and
`refusal` at the way to the post (no symbolic link is followed into or out of the repository).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from trendbot.config import BlogConfig, Config, display_path
from trendbot.errors import PublishError

_GLOB = re.compile(r"[*?\[]")
_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


# -- the day's fields and templates ------------------------------------------------------------

def weekday_number(first: date, day: date) -> int:
    """Day N of a course that runs on weekdays: `first` is day 1, weekends are not counted."""
    days = (day - first).days + 1
    full_weeks, rest = divmod(days, 7)
    return full_weeks * 5 + sum(1 for i in range(rest) if (first.weekday() + i) % 7 < 5)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def week_start(blog: BlogConfig, day: date) -> date:
    """The first day of `day`'s week, the week starting on `[blog] week_starts` (a person whose
    weekly post opens with the weekend has weeks from Saturday to Friday)."""
    return day - timedelta(days=(day.weekday() - WEEKDAYS.index(blog.week_starts)) % 7)


def day_fields(blog: BlogConfig, day: date) -> dict[str, Any]:
    start = week_start(blog, day)
    fields: dict[str, Any] = {"date": day, "week_start": start, "week_end": start + timedelta(days=6)}
    if blog.first_day is not None:
        first_week = week_start(blog, blog.first_day)
        if start >= first_week:
            fields["week_index"] = (start - first_week).days // 7 + 1
        if day >= blog.first_day:
            fields["day_index"] = weekday_number(blog.first_day, day)
    return fields


def fill(template: str, blog: BlogConfig, day: date) -> str:
    try:
        return template.format(**day_fields(blog, day))
    except KeyError as exc:
        raise PublishError(f'[blog] template "{template}": {{{exc.args[0]}}} is not defined for {day} '
                           f"(before first_day {blog.first_day})") from None


def day_heading(blog: BlogConfig, day: date) -> str | None:
    """The heading the day's block sits under, or None when posts have no day headings."""
    if blog.day_heading is None:
        return None
    weekend = {5: "saturday", 6: "sunday"}.get(day.weekday())
    template = blog.weekend_headings.get(weekend, blog.day_heading) if weekend else blog.day_heading
    return fill(template, blog, day)


def front_matter_text(blog: BlogConfig, day: date) -> str:
    lines = ["---"]
    for key, value in blog.front_matter.items():
        name = key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)
        lines.append(f"{name}: {yaml_value(value, blog, day)}")
    return "\n".join(lines + ["---", ""])


def yaml_value(value: Any, blog: BlogConfig, day: date) -> str:
    """A TOML value as YAML; strings double-quoted (JSON's escapes are YAML's too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(fill(value, blog, day), ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(yaml_value(v, blog, day) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {yaml_value(v, blog, day)}"
                               for k, v in value.items()) + "}"
    return json.dumps(str(value), ensure_ascii=False)


def block_key(day: date | str) -> str:
    """A day's block is keyed by the day; a week's roll-up by `week-` and the week's first day."""
    return day if isinstance(day, str) else day.isoformat()


def digest_path(config: Config, day: date | str) -> Path:
    """digests/D.md for a day, digests/week-D.md for a week's roll-up."""
    return config.digests_dir / f"{block_key(day)}.md"


def blog_repo(config: Config) -> Path:
    blog = config.settings.blog
    assert blog.repo is not None
    repo = config.resolve(blog.repo)
    if not repo.is_dir():
        raise PublishError(f"{display_path(repo)}: [blog] repo is not a folder")
    return repo


def refusal(repo: Path, post: Path) -> str | None:
    """Why trendbot must not read or write `post`, or None: it is outside the blog repository or
    in its .git, a folder on its way or the post itself is a symbolic link, or it is not a
    regular file. Nothing is followed to find out."""
    try:
        parts = post.relative_to(repo).parts
    except ValueError:
        return f"{display_path(post)} is outside [blog] repo {display_path(repo)}"
    if not parts or parts[0] == ".git":
        return f"{display_path(post)} is not a post of the blog repository"
    path = repo
    for part in parts:
        path = path / part
        try:
            info = path.lstat()
        except FileNotFoundError:
            return None  # created, one folder at a time without following (trendbot/files.py)
        except OSError as exc:
            return f"{display_path(path)}: {exc.strerror}"
        if stat.S_ISLNK(info.st_mode):
            return f"{display_path(path)} is a symbolic link (to {os.readlink(path)}), and trendbot follows none"
    if not stat.S_ISREG(info.st_mode):
        return f"{display_path(post)} is not a regular file"
    return None


def find_post(config: Config, day: date) -> tuple[Path, bool]:
    """The day's post and whether it exists; a glob must match at most one file."""
    blog = config.settings.blog
    repo = blog_repo(config)
    pattern = fill(blog.post, blog, day)
    if not _GLOB.search(pattern):
        path = repo / pattern
        return path, path.is_file()
    matches = sorted(path for path in repo.glob(pattern) if path.is_file())
    if len(matches) > 1:
        names = ", ".join(display_path(path) for path in matches)
        raise PublishError(f'{display_path(repo)}: [blog] post "{pattern}" matches several posts: {names}')
    if matches:
        return matches[0], True
    new = fill(blog.new_post, blog, day) if blog.new_post else pattern
    if not fnmatch.fnmatchcase(new, pattern):
        raise PublishError(f'[blog] new_post "{new}" does not match post "{pattern}": '
                           "the next run would not find the post it created")
    return repo / new, False


@dataclass
class Target:
    """Where a day's section goes: the blog post (found or to be created), else digests/D.md."""

    path: Path
    exists: bool
    in_blog: bool


def target(config: Config, day: date) -> Target:
    if config.settings.blog.repo is None:
        path = digest_path(config, day)
        return Target(path, path.is_file(), False)
    post, exists = find_post(config, day)
    return Target(post, exists, True)


HEADING_SEARCH_DAYS = 45  # how far from the day the other day headings are looked for


@dataclass
class Slot:
    """Where a section goes in a post: its block's key (a day, or a week), the heading it sits
    under, and the other headings that mark where a day begins: the day headings of the days
    around it (with their dates) and the week's headings."""

    key: date | str
    first_day: date                      # the day whose fields fill the templates
    heading: str | None
    days: dict[str, date] = field(default_factory=dict)
    ends: frozenset[str] = frozenset()
    what: str = ""                       # "the 2026-11-20 section", for messages
    position: str | None = None          # else `[blog] position`

    def __post_init__(self) -> None:
        self.what = self.what or f"the {block_key(self.key)} section"


def nearby_headings(blog: BlogConfig, day: date) -> tuple[dict[str, date], frozenset[str]]:
    """The day headings of the days around `day`, each with its date (a recurring `## 토요일`
    names the nearest Saturday), and the week headings of those days' weeks."""
    days: dict[str, date] = {}
    weeks: set[str] = set()
    for offset in sorted(range(-HEADING_SEARCH_DAYS, HEADING_SEARCH_DAYS + 1), key=abs):
        other = day + timedelta(days=offset)
        try:
            if blog.week_heading:
                weeks.add(fill(blog.week_heading, blog, week_start(blog, other)))
            name = day_heading(blog, other)
        except PublishError:
            continue  # e.g. before first_day
        if name:
            days.setdefault(" ".join(name.split()), other)
    return days, frozenset(weeks)


def day_slot(blog: BlogConfig, day: date) -> Slot:
    days, weeks = nearby_headings(blog, day)
    return Slot(day, day, day_heading(blog, day), days, weeks)


def week_slot(blog: BlogConfig, start: date) -> Slot:
    """A week's roll-up: under `[blog] week_heading` (created at the end of the post when it is
    missing), or at the end of the post without one."""
    heading = fill(blog.week_heading, blog, start) if blog.week_heading else None
    days, weeks = nearby_headings(blog, start)
    return Slot(f"week-{start.isoformat()}", start, heading, days, weeks, f"the roll-up of the week of {start}",
                position=None if heading else "last")


def record_path(post: Path, slot: Slot) -> str:
    """The post's path as the publications table keeps it; a week's roll-up is recorded apart
    from the day it starts on (the same post holds both blocks)."""
    return str(post.resolve()) + ("#week" if isinstance(slot.key, str) else "")
