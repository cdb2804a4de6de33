"""Configuration: `trendbot.toml` plus one `sources/*.toml` per source, validated at the edge.

Everything the user writes is checked here, once, with pydantic; any mistake becomes a
`ConfigError` naming the file, the key and the reason, and the CLI exits 2 with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from string import Formatter
from typing import Annotated, Any, Callable, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)
from pydantic import SecretStr

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

_CLOCK = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
OFF_WORDS = ("off", "none", "")


def clock_time(value: Any) -> time:
    """A local time of day: TOML's own `23:30:00`, or a string "HH:MM". An unquoted `2330` is a
    number, which pydantic would read as seconds after midnight (00:38): refused."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError(f'"{value}" has a UTC offset: times are local times in `timezone` (write "HH:MM")')
        return value
    if isinstance(value, str) and (match := _CLOCK.fullmatch(value.strip())):
        return time(int(match.group(1)), int(match.group(2)))
    raise ValueError(f'{toml_repr(value)} is not a time of day: write it "HH:MM", in quotes (e.g. "23:30")')


def clock_time_or_off(value: Any) -> time | None:
    # TOML has no null: `settle_at = "off"` (or false) is how a user turns a job off.
    if value is False or (isinstance(value, str) and value.strip().lower() in OFF_WORDS):
        return None
    return clock_time(value)


def calendar_day(value: Any) -> date:
    """TOML's own date (`2024-08-05`) or the same in quotes; not a date-time, not a number."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value.strip())
    raise ValueError(f'{toml_repr(value)} is not a date: write it YYYY-MM-DD (e.g. 2024-08-05)')


def path_text(value: str) -> str:
    if "\0" in value:
        raise ValueError(f"{toml_repr(value)} holds a NUL character, which no file name can")
    return value


def toml_repr(value: Any) -> str:
    """A value as it was written in the file, for an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


ClockTime = Annotated[time, BeforeValidator(clock_time)]
ClockTimeOrOff = Annotated[time | None, BeforeValidator(clock_time_or_off)]
CalendarDay = Annotated[date, BeforeValidator(calendar_day)]
PathText = Annotated[str, AfterValidator(path_text)]


class Strict(BaseModel):
    # strict: a number is a number (`limit = "5"` and `limit = true` are mistakes, not 5 and 1);
    # what TOML cannot write natively (durations, "HH:MM" times) has its own parser above.
    model_config = ConfigDict(extra="forbid", strict=True)


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
    per_source: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, description="a source's name: at most this many stories it leads")
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
    api_key_env: str = Field("OPENAI_API_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                             description="the name of the environment variable holding the key")
    language: str = "ko"
    timeout: DurationIn(MILLISECOND * 100, HOUR) = timedelta(seconds=30)
    max_stories: int = Field(30, ge=0)
    max_chars: int = Field(300, ge=20, description="longest summary; a longer sentence is cut at a word")


class BlogConfig(Strict):
    """Where `digest --publish` and the daemon put the day's section (see `trendbot/publish.py` and `trendbot/posts.py`).

    Templates take the day's fields: `{date:%Y-%m-%d}` (any strftime), `{week_start}` and
    `{week_end}` (the first and last day of the day's week, which starts on `week_starts`: dates
    too), `{week_index}` (1 for the week of `first_day`) and `{day_index}` (weekdays counted from
    `first_day`, which is day 1).
    """

    TEMPLATE_FIELDS: ClassVar[frozenset[str]] = frozenset({"date", "week_start", "week_end", "week_index", "day_index"})

    repo: PathText | None = Field(None, description="the blog repository's folder; unset: write digests/D.md only")
    post: PathText = Field("_posts/{date:%Y-%m-%d}-daily-trends.md",
                      description="the post, relative to repo; may hold globs (*, ?) to find an existing post")
    new_post: PathText | None = Field(None, description="where to create a missing post when `post` holds globs")
    create: bool = True
    front_matter: dict[str, Any] = Field(
        default_factory=lambda: {"layout": "post", "title": "{date:%Y-%m-%d} 데일리 트렌드", "use_math": True}
    )
    day_heading: str | None = Field(None, description='e.g. "## {day_index}일차"; the block goes under it')
    position: Literal["first", "last"] = Field(
        "first", description="where in the day's section the block goes: directly under the day heading, or at its end")
    week_starts: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = Field(
        "monday", description="the first day of a post's week: {week_start}, {week_end}, {week_index} follow it")
    first_day: CalendarDay | None = None
    week_heading: str | None = Field(None, description='e.g. "## {week_index}주차 후기": the week\'s roll-up goes under it')
    weekend_headings: dict[str, str] = Field(default_factory=lambda: {"saturday": "## 토요일", "sunday": "## 일요일"})
    commit: bool = False
    commit_message: str = "trendbot: {date:%Y-%m-%d} 데일리 트렌드"
    push: bool = Field(False, description="after each commit, push it to the branch's upstream")
    git_timeout: DurationIn(MILLISECOND * 100, HOUR) = Field(
        timedelta(seconds=60), description="longest wait for one git command (a hook, GPG signing, a push); then git is stopped")
    url: HttpUrl | None = Field(None, description="the blog's address (https://me.github.io): messages link to the day's page")

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

    publish_at: ClockTime = Field(time(23, 30), description="publish the day's section at this local time")
    settle_at: ClockTimeOrOff = Field(time(9, 0), description='re-publish the previous day at this time; "off" disables')
    week_at: ClockTimeOrOff = Field(time(23, 45), description='publish the week\'s roll-up at this time on its last day; "off" disables')
    catch_up_days: int = Field(3, ge=0, le=60, description="on start, publish unpublished days this far back; 0 disables")
    jitter: DurationIn(timedelta(0), DAY) = Field(timedelta(seconds=30), description="random delay added to each fetch (at most every/10)")
    misfire_grace: DurationIn(SECOND, DAY) = Field(timedelta(minutes=30), description="a job late by more than this is skipped")


class TasteConfig(Strict):
    """What trendbot learns from the person's edits of its lines (see `trendbot/taste.py`)."""

    weight: float = Field(2.0, ge=0, le=100, description="how much the taste term counts in a story's score; 0 turns it off")
    lookback: DurationIn(DAY, YEAR) = Field(timedelta(weeks=8), description="how far back the blog's posts are read for edits")


NOTIFY_EVENTS = ("published", "down", "back", "failed")


class NotifyConfig(Strict):
    """Where trendbot's messages go (see `trendbot/notify.py`). The URLs hold tokens: they are
    kept as secrets, so no repr, log line or error ever shows one."""

    urls: list[SecretStr] = Field(default_factory=list, description="apprise URLs (tgram://…, ntfy://…)")
    urls_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                                 description="an environment variable holding more apprise URLs, separated by spaces")
    down_after: DurationIn(SECOND, DAY * 30) = Field(
        timedelta(days=1), description="a source failing every attempt this long gets one message")
    on: list[Literal["published", "down", "back", "failed"]] = Field(
        default_factory=lambda: list(NOTIFY_EVENTS), description="which messages to send")

    @field_validator("urls")
    @classmethod
    def _apprise_urls(cls, values: list[SecretStr]) -> list[SecretStr]:
        for n, value in enumerate(values):
            if "://" not in value.get_secret_value():
                # never the value itself: it may be a token pasted without its scheme
                raise ValueError(f"urls[{n}] is not an apprise URL (scheme://…, e.g. tgram://BOT_TOKEN/CHAT_ID)")
        return values

    @property
    def configured(self) -> bool:
        return bool(self.urls or self.urls_env)


class StoreConfig(Strict):
    history: DurationIn(DAY, MAX_DURATION) = Field(
        timedelta(days=90), description="how long each source's fetch attempts are kept (`trendbot sources --days`)")


class Settings(Strict):
    """The contents of trendbot.toml."""

    timezone: str = "Asia/Seoul"
    db: PathText = "trendbot.db"
    sources_dir: PathText = "sources"
    digests_dir: PathText = "digests"
    digest: DigestConfig = Field(default_factory=DigestConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    summarizer: SummarizerConfig = Field(default_factory=SummarizerConfig)
    blog: BlogConfig = Field(default_factory=BlogConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    taste: TasteConfig = Field(default_factory=TasteConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)

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


# What a strict field wanted, in TOML's words, by pydantic's error type; and a value of that type.
EXPECTED: dict[str, tuple[str, Any]] = {
    "int_type": ("a whole number", 0), "float_type": ("a number", 0.0), "bool_type": ("true or false", True),
    "string_type": ("a string in quotes", ""), "list_type": ("a list [...]", []), "dict_type": ("a table { ... }", {}),
}


def toml_type(value: Any) -> str:
    for kind, word in ((bool, "a boolean"), (int, "a whole number"), (float, "a decimal number"), (str, "a string"),
                       (list, "a list"), (dict, "a table"), (datetime, "a date-time"), (date, "a date"),
                       (time, "a time")):
        if isinstance(value, kind):
            return word
    return type(value).__name__


def type_mistake(kind: str, value: Any, key: str) -> str:
    """`limit = "5"`: 'expected a whole number, not a string "5" (without the quotes: limit = 5)'.
    Where a list or table was wanted the value is not shown: a list of secrets written as one
    string (`urls = "tgram://TOKEN"`) must not end up in a log."""
    wanted, sample = EXPECTED[kind]
    text = f"expected {wanted}, not {toml_type(value)}"
    if not isinstance(sample, (list, dict)):
        text += f" {toml_repr(value)}"
    if isinstance(value, str) and "\n" not in value and not isinstance(sample, str):
        with contextlib.suppress(tomllib.TOMLDecodeError):
            if toml_type(tomllib.loads(f"v = {value.strip()}")["v"]) == toml_type(sample):
                text += f" (without the quotes: {key} = {value.strip()})"
    return text


def _describe(error: dict) -> tuple[str, str]:
    loc = [str(part) for part in error.get("loc", ()) if not str(part).startswith("function-")]
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return ".".join(loc), "unknown key"
    if kind == "missing":
        return ".".join(loc), "required key is missing"
    if kind in EXPECTED:
        return ".".join(loc), type_mistake(kind, error.get("input"), loc[-1] if loc else "key")
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
        check_source_names(config)
    return config


def check_source_names(config: Config) -> None:
    """Keys of trendbot.toml that name sources name configured ones: a misspelt name in
    `per_source` would otherwise cap nothing, without a word."""
    known = {source.name for source in config.sources}
    unknown = sorted(set(config.settings.digest.per_source) - known)
    if unknown:
        listed = ", ".join(sorted(known)) or f"none configured in {display_path(config.sources_dir)}"
        raise ConfigError(display_path(config.path or Path(CONFIG_NAME)),
                          f'no source named "{unknown[0]}" (known: {listed})', f"digest.per_source.{unknown[0]}")
