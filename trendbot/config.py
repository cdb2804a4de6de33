"""Configuration: `trendbot.toml` plus one `sources/*.toml` per source, validated at the edge.

Everything the user writes is checked here, once, with pydantic; any mistake becomes a
`ConfigError` naming the file, the key and the reason, and the CLI exits 2 with it.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date, time, timedelta
from pathlib import Path
from string import Formatter
from typing import Annotated, Any, Callable, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from trendbot.errors import ConfigError
from trendbot.filters import compile_pattern
from trendbot.urls import is_http_url
from trendbot.timeutil import DAY, HOUR, MAX_DURATION, MILLISECOND, SECOND, YEAR, DurationIn, zone

CONFIG_ENV = "TRENDBOT_CONFIG"
CONFIG_NAME = "trendbot.toml"


def http_url(value: str) -> str:
    value = value.strip()
    if not is_http_url(value):
        raise ValueError(f'"{value}" is not an http(s) URL')
    return value


# An address a source fetches from; a base URL (which may carry a path prefix) loses its final "/".
HttpUrl = Annotated[str, AfterValidator(http_url)]
BaseUrl = Annotated[str, AfterValidator(lambda value: http_url(value).rstrip("/"))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceBase(Strict):
    """Keys every source file has; each kind adds its own (see `trendbot/kinds/`)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: str
    enabled: bool = True
    every: DurationIn(SECOND, YEAR) = timedelta(minutes=30)
    stale_after: DurationIn(HOUR, MAX_DURATION) | None = Field(
        None, description="no new item for this long is noted under the section (default: [digest] stale_after)")
    include: list[str] = Field(default_factory=list, description="keep only items whose title or text has one of these")
    exclude: list[str] = Field(default_factory=list, description="drop items whose title or text has one of these")

    @field_validator("include", "exclude")
    @classmethod
    def _patterns(cls, values: list[str]) -> list[str]:
        for value in values:
            compile_pattern(value)
        return values


class DigestConfig(Strict):
    limit: int = Field(15, ge=1)
    per_source: dict[str, int] = Field(default_factory=dict)
    section_title: str = "### 데일리 트렌드"
    stale_after: DurationIn(HOUR, MAX_DURATION) = Field(
        timedelta(days=3), description="a source with nothing new for this long gets a note under the section")
    week_title: str = Field("### 이번 주 트렌드", description="the title of a week's roll-up (`digest --week`)")
    week_limit: int = Field(10, ge=1, description="stories in a week's roll-up")


class HttpConfig(Strict):
    timeout: DurationIn(MILLISECOND * 100, HOUR) = Field(timedelta(seconds=20), description="longest wait for any one read")
    connect_timeout: DurationIn(MILLISECOND * 100, HOUR) = timedelta(seconds=10)
    deadline: DurationIn(SECOND, HOUR) = Field(timedelta(seconds=60),
                                              description="a request's whole answer: connect, headers and body")
    source_deadline: DurationIn(SECOND, DAY) = Field(timedelta(minutes=5),
                                                    description="a source's whole fetch, every request included")
    retries: int = Field(2, ge=0, le=10)
    backoff: DurationIn(timedelta(0), HOUR) = timedelta(seconds=1)
    max_bytes: int = Field(10_000_000, ge=1024)
    host_interval: DurationIn(timedelta(0), HOUR) = Field(timedelta(0), description="minimum time from one answer of a host to the next request to it")
    concurrency: int = Field(16, ge=1, description="requests in flight at once")
    per_host: int = Field(16, ge=1, description="requests in flight at once to one host")


class SummarizerConfig(Strict):
    kind: Literal["extractive", "openai"] = "extractive"
    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    language: str = "ko"
    timeout: DurationIn(MILLISECOND * 100, HOUR) = timedelta(seconds=30)
    max_stories: int = Field(30, ge=0)
    max_chars: int = Field(300, ge=20, description="longest summary; a longer sentence is cut at a word")


class BlogConfig(Strict):
    """Where `digest --publish` and the daemon put the day's section (see `trendbot/publish.py`).

    Templates take the day's fields: `{date:%Y-%m-%d}` (any strftime), `{week_start}` and
    `{week_end}` (the first and last day of the day's week, which starts on `week_starts`: dates
    too), `{week_index}` (1 for the week of `first_day`) and `{day_index}` (weekdays counted from
    `first_day`, which is day 1).
    """

    TEMPLATE_FIELDS: ClassVar[frozenset[str]] = frozenset({"date", "week_start", "week_end", "week_index", "day_index"})

    repo: str | None = Field(None, description="the blog repository's folder; unset: write digests/D.md only")
    post: str = Field("_posts/{date:%Y-%m-%d}-daily-trends.md",
                      description="the post, relative to repo; may hold globs (*, ?) to find an existing post")
    new_post: str | None = Field(None, description="where to create a missing post when `post` holds globs")
    create: bool = True
    front_matter: dict[str, Any] = Field(
        default_factory=lambda: {"layout": "post", "title": "{date:%Y-%m-%d} 데일리 트렌드", "use_math": True}
    )
    day_heading: str | None = Field(None, description='e.g. "## {day_index}일차"; the block goes under it')
    position: Literal["first", "last"] = Field(
        "first", description="where in the day's section the block goes: directly under the day heading, or at its end")
    week_starts: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = Field(
        "monday", description="the first day of a post's week: {week_start}, {week_end}, {week_index} follow it")
    first_day: date | None = None
    week_heading: str | None = Field(None, description='e.g. "## {week_index}주차 후기": the week\'s roll-up goes under it')
    weekend_headings: dict[str, str] = Field(default_factory=lambda: {"saturday": "## 토요일", "sunday": "## 일요일"})
    commit: bool = False
    commit_message: str = "trendbot: {date:%Y-%m-%d} 데일리 트렌드"

    @field_validator("post", "new_post", "day_heading", "week_heading", "commit_message")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None:
            cls.check_template(value)
        return value

    @field_validator("post", "new_post")
    @classmethod
    def _inside_repo(cls, value: str | None) -> str | None:
        if value is not None and (Path(value).is_absolute() or ".." in Path(value).parts):
            raise ValueError(f'"{value}" must be a path inside the blog repository')
        return value

    @field_validator("weekend_headings")
    @classmethod
    def _weekend(cls, value: dict[str, str]) -> dict[str, str]:
        for day, heading in value.items():
            if day not in ("saturday", "sunday"):
                raise ValueError(f'"{day}" is not a weekend day (use saturday, sunday)')
            cls.check_template(heading)
        return value

    @field_validator("front_matter")
    @classmethod
    def _front_matter(cls, value: dict[str, Any]) -> dict[str, Any]:
        for item in value.values():
            if isinstance(item, str):
                cls.check_template(item)
        return value

    @model_validator(mode="after")
    def _needs_first_day(self) -> BlogConfig:
        templates = [self.post, self.new_post, self.day_heading, self.week_heading, *self.weekend_headings.values(),
                     *(v for v in self.front_matter.values() if isinstance(v, str))]
        used = {name for template in templates if template for name in self.template_fields(template)}
        if self.first_day is None and used & {"day_index", "week_index"}:
            raise ValueError("first_day is required when a template uses {day_index} or {week_index}")
        if self.create and any(ch in self.post for ch in "*?[") and not self.new_post:
            raise ValueError("post holds globs: set new_post to say where a missing post is created "
                             "(or create = false)")
        return self

    @classmethod
    def template_fields(cls, template: str) -> set[str]:
        try:
            return {name for _, name, _, _ in Formatter().parse(template) if name is not None}
        except ValueError as exc:
            raise ValueError(f'"{template}": {exc}') from None

    @classmethod
    def check_template(cls, template: str) -> None:
        unknown = cls.template_fields(template) - cls.TEMPLATE_FIELDS
        if unknown:
            known = ", ".join(sorted(cls.TEMPLATE_FIELDS))
            raise ValueError(f'"{template}": unknown field {{{sorted(unknown)[0]}}} (known: {known})')
        sample = date(2024, 8, 28)
        try:
            template.format(date=sample, week_start=sample, week_end=sample, week_index=1, day_index=1)
        except (ValueError, IndexError, AttributeError) as exc:
            raise ValueError(f'"{template}": {exc}') from None


class ScheduleConfig(Strict):
    """When `trendbot run` publishes; local times in `timezone` (see `trendbot/daemon.py`)."""

    publish_at: time = Field(time(23, 30), description="publish the day's section at this local time")
    settle_at: time | None = Field(time(9, 0), description='re-publish the previous day at this time; "off" disables')
    week_at: time | None = Field(time(23, 45), description='publish the week\'s roll-up at this time on its last day; "off" disables')
    catch_up_days: int = Field(3, ge=0, le=60, description="on start, publish unpublished days this far back; 0 disables")
    jitter: DurationIn(timedelta(0), DAY) = Field(timedelta(seconds=30), description="random delay added to each fetch (at most every/10)")
    misfire_grace: DurationIn(SECOND, DAY) = Field(timedelta(minutes=30), description="a job late by more than this is skipped")

    @field_validator("settle_at", "week_at", mode="before")
    @classmethod
    def _settle_off(cls, value: Any) -> Any:
        # TOML has no null: `settle_at = "off"` (or false) is how a user turns settling off.
        if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "none", "")):
            return None
        return value


class Settings(Strict):
    """The contents of trendbot.toml."""

    timezone: str = "Asia/Seoul"
    db: str = "trendbot.db"
    sources_dir: str = "sources"
    digests_dir: str = "digests"
    digest: DigestConfig = Field(default_factory=DigestConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    summarizer: SummarizerConfig = Field(default_factory=SummarizerConfig)
    blog: BlogConfig = Field(default_factory=BlogConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value


class Config:
    """Settings plus where they came from, with paths resolved and sources loaded."""

    def __init__(self, settings: Settings, base_dir: Path, path: Path | None, sources: list[SourceBase]):
        self.settings = settings
        self.base_dir = base_dir
        self.path = path
        self.sources = sources

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.settings.timezone)

    def resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    @property
    def db_path(self) -> Path:
        return self.resolve(self.settings.db)

    @property
    def sources_dir(self) -> Path:
        return self.resolve(self.settings.sources_dir)

    @property
    def digests_dir(self) -> Path:
        return self.resolve(self.settings.digests_dir)

    def chosen(self, names: list[str] | None) -> list[SourceBase]:
        """The sources named (a disabled one may be named), else every enabled source."""
        if names:
            return [self.source(name) for name in names]
        return [source for source in self.sources if source.enabled]

    def source(self, name: str) -> SourceBase:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(self.sources_dir, f'no source named "{name}" (known: {known})')


def display_path(path: Path) -> str:
    try:
        return str(path.absolute().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _describe(error: dict) -> tuple[str, str]:
    loc = [str(part) for part in error.get("loc", ()) if not str(part).startswith("function-")]
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return ".".join(loc), "unknown key"
    if kind == "missing":
        return ".".join(loc), "required key is missing"
    message = error.get("msg", "invalid")
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return ".".join(loc), message


def validation_error(path: Path, exc: ValidationError) -> ConfigError:
    """Every problem pydantic found, one per line after the first, each with its key."""
    problems = [_describe(error) for error in exc.errors()]
    key, reason = problems[0]
    for other_key, other_reason in problems[1:]:
        reason += f"\n  {display_path(path)}: " + (f"{other_key}: " if other_key else "") + other_reason
    return ConfigError(display_path(path), reason, key or None)


def all_problems(problems: list[ConfigError]) -> ConfigError:
    """One error holding every file's problems, one line each after the first (the CLI prints
    the error's text as it is)."""
    first, *others = problems
    if not others:
        return first
    text = "\n  ".join(str(problem) for problem in others)
    return ConfigError(first.path, f"{first.reason}\n  {text}", first.key)


def read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(display_path(path), f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(display_path(path), f"not UTF-8 text (byte {exc.start} is 0x{exc.object[exc.start]:02x})") from None
    except OSError as exc:
        raise ConfigError(display_path(path), f"cannot read: {exc.strerror or exc}") from None


def find_config(explicit: str | os.PathLike | None) -> Path | None:
    """--config, else $TRENDBOT_CONFIG, else ./trendbot.toml, else None (defaults)."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(path, "config file not found")
        return path
    env = os.environ.get(CONFIG_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise ConfigError(path, f"config file not found (named by ${CONFIG_ENV})")
        return path
    local = Path(CONFIG_NAME)
    return local if local.is_file() else None


def load_config(explicit: str | os.PathLike | None = None, db: str | None = None,
                sources: Callable[[Path], list[SourceBase]] | None = None) -> Config:
    """trendbot.toml (or the defaults) with paths resolved; `sources` reads the sources folder
    (the kind registry's loader: this module knows no kinds)."""
    path = find_config(explicit)
    if path is None:
        settings, base_dir = Settings(), Path.cwd()
    else:
        try:
            settings = Settings.model_validate(read_toml(path))
        except ValidationError as exc:
            raise validation_error(path, exc) from None
        base_dir = path.resolve().parent
    if db:
        settings.db = str(Path(db).expanduser().resolve())
    config = Config(settings, base_dir, path, [])
    if sources is not None:
        config.sources = sources(config.sources_dir)
    return config
