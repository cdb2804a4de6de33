"""The `trendbot` command. Thin: parses options, calls the steps the daemon calls too
(`trendbot/jobs.py`), and turns `TrendbotError`s into one message and an exit status.

Streams: results (a source's line, a digest printed with `--out -`, a diff, `items`) go to
stdout; diagnostics (a source's notes and warnings, a failed source, errors) to stderr, one line
per event, as JSON objects with `--json-logs` (with `source` on every line about one). `-q` leaves only errors. On a terminal, `fetch` shows a progress bar
and the log lines print above it. Exit status: 0 all went well, 1 a source or a step failed
(everything else was still stored and written), 2 bad usage or configuration, 130 interrupted.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import re
import sys
from datetime import date, datetime, tzinfo
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click

from trendbot import __version__
from trendbot.errors import TrendbotError, UsageError
from trendbot.logs import source_of

if TYPE_CHECKING:
    from trendbot.config import Config
    from trendbot.store import Store

# Modules past click are imported where they are used, so `trendbot --help` and a typo in a
# command answer at once instead of loading pydantic, httpx and SQLite's schema first.

log = logging.getLogger("trendbot")
INTERRUPTED = 130  # the shell's status for a command stopped by Ctrl-C (128 + SIGINT)
# What a command did (the post it updated, the file it wrote): shown by default, not an alarm.
NOTE = 25
DAEMON_QUIET = ("trendbot.fetch", "trendbot.source")  # loggers the daemon keeps to warnings unless -v
logging.addLevelName(NOTE, "NOTE")


class Context:
    def __init__(self, config_path: str | None, db: str | None, verbose: int, quiet: bool, json_logs: bool):
        self.config_path = config_path
        self.db = db
        self.verbose, self.quiet, self.json_logs = verbose, quiet, json_logs
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from trendbot.config import load_config
            from trendbot.kinds import load_sources

            self._config = load_config(self.config_path, self.db, sources=load_sources)
        return self._config

    def store(self) -> Store:
        from trendbot.store import Store

        return Store(self.config.db_path)

    def day(self, text: str, option: str = "--date") -> date:
        from trendbot.timeutil import parse_day, utcnow

        try:
            return parse_day(text, utcnow(), self.config.tz)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=option) from None

    def check_source(self, name: str | None) -> None:
        if name:
            self.config.source(name)  # an unknown name is a usage error, not an empty answer


def handle_errors(func):
    """Turn trendbot's errors into one `error` line on stderr and the documented exit status."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TrendbotError as exc:
            log.error("error: %s", exc)
            sys.exit(exc.exit_code)

    return wrapper


# -- logging ----------------------------------------------------------------------------------


class ZoneFormatter(logging.Formatter):
    """The daemon's lines: `2026-12-02 06:20:01 KST INFO trendbot.daemon: …`, the time in the
    configured zone (the schedule's), to the second."""

    def __init__(self, tz: tzinfo | None):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        return datetime.fromtimestamp(record.created, self.tz).astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S %Z")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line; a record's `extra={"fields": {...}}` become top-level keys.
    Times carry their offset: the configured zone's for the daemon, else the machine's."""

    def __init__(self, tz: tzinfo | None = None):
        super().__init__()
        self.tz = tz

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, self.tz).astimezone(self.tz).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        for key, value in (getattr(record, "fields", None) or {}).items():
            entry.setdefault(key, value)
        if source := source_of(record):
            entry["source"] = source
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class Stderr(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the moment: while a progress bar is live, rich puts
    its own stream there, which prints each log line above the bar instead of into it."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup_logging(verbose: int, quiet: bool, json_logs: bool = False, daemon: bool = False,
                  tz: tzinfo | None = None) -> None:
    """-q: errors only; default: what a command did, and warnings; -v: what each step does;
    -vv: debug. A command's lines read `trendbot: …`; the daemon's carry the time (in `tz`)
    and logger."""
    if quiet:
        level = logging.ERROR
    elif verbose:
        level = logging.DEBUG if verbose > 1 else logging.INFO
    else:
        level = logging.INFO if daemon else NOTE
    handler = Stderr()
    if json_logs:
        handler.setFormatter(JsonLogFormatter(tz))
    elif daemon:
        handler.setFormatter(ZoneFormatter(tz))
    else:
        handler.setFormatter(logging.Formatter("trendbot: %(message)s"))
    # APScheduler's own warnings (a missed run) go through the same handler and format.
    for name in DAEMON_QUIET:  # the daemon's choice, undone for the next command run in-process
        logging.getLogger(name).setLevel(logging.NOTSET)
    for name, name_level in (("trendbot", level), ("apscheduler", max(level, logging.WARNING))):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(name_level)
        logger.propagate = False


# -- the group --------------------------------------------------------------------------------

GLOBAL_VALUES = ("--config", "--db")            # options that take a value
GLOBAL_FLAGS = ("-v", "-vv", "-vvv", "--verbose", "-q", "--quiet", "--json-logs")


EXAMPLES = "\b\nExamples:"


class ExamplesLast:
    """A command's help ends with its examples, after the options: the docstring's `Examples:`
    part is click's epilog, which it prints last."""

    def __init__(self, *args, **kwargs):
        help_text = inspect.cleandoc(kwargs.get("help") or "")
        if EXAMPLES in help_text and not kwargs.get("epilog"):
            kwargs["help"], examples = help_text.split(EXAMPLES, 1)
            kwargs["epilog"] = EXAMPLES + examples
        super().__init__(*args, **kwargs)


class Command(ExamplesLast, click.Command):
    pass


class Group(ExamplesLast, click.Group):
    """Global options are read before or after the command: `trendbot fetch --db x.db` is
    `trendbot --db x.db fetch`. Everything after `--` is left where it is."""

    command_class = Command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        names = set(self.commands)
        at = next((n for n, arg in enumerate(args) if arg in names), None)
        if at is not None:
            moved, rest, n = [], args[:at + 1], at + 1
            while n < len(args):
                arg = args[n]
                if arg == "--":
                    rest += args[n:]
                    break
                if arg in GLOBAL_FLAGS:
                    moved.append(arg)
                elif arg in GLOBAL_VALUES and n + 1 < len(args):
                    moved += [arg, args[n + 1]]
                    n += 1
                elif arg.split("=", 1)[0] in GLOBAL_VALUES and "=" in arg:
                    moved.append(arg)
                else:
                    rest.append(arg)
                n += 1
            args = args[:at] + moved + rest[at:]
        return super().parse_args(ctx, args)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", metavar="FILE", envvar="TRENDBOT_CONFIG",
              help="trendbot.toml to use (else $TRENDBOT_CONFIG, else ./trendbot.toml, else defaults).")
@click.option("--db", metavar="FILE", envvar="TRENDBOT_DB",
              help="SQLite database (else $TRENDBOT_DB, else the config's `db`, default trendbot.db).")
@click.option("-v", "--verbose", count=True, help="What each step does, on stderr (-vv: debug).")
@click.option("-q", "--quiet", is_flag=True, help="Errors only: no per-source lines, no warnings.")
@click.option("--json-logs", is_flag=True, help="Every line on stderr a JSON object, for machines.")
@click.version_option(__version__, prog_name="trendbot")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db: str | None, verbose: int, quiet: bool,
        json_logs: bool) -> None:
    """Collect the day's AI trends (Hugging Face papers, GeekNews, X, Hacker News, Reddit,
    GitHub, Bluesky, feeds) and write a `### 데일리 트렌드` section for a Jekyll blog.

    Global options may come before or after the command. Exit status: 0 all went well; 1 a
    source or step failed (everything else was still stored and written); 2 bad usage or bad
    configuration; 130 interrupted (nothing is left half written).

    \b
    Examples:
      trendbot init && trendbot digest --date today --fetch
      trendbot fetch --source geeknews -v
    """
    setup_logging(verbose, quiet, json_logs)
    ctx.obj = Context(config_path, db, verbose, quiet, json_logs)


pass_app = click.make_pass_decorator(Context)


@cli.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, metavar="DIR", help="Folder to write trendbot.toml, sources/ and digests/ into.")
@handle_errors
def init(directory: Path) -> None:
    """Write trendbot.toml and the default sources/*.toml, never overwriting a file.

    \b
    Examples:
      trendbot init
      trendbot init --dir ~/trendbot
    """
    templates = resources.files("trendbot") / "templates"
    from trendbot.config import CONFIG_NAME, display_path

    checkout = own_checkout(directory)
    if checkout is not None:
        log.log(NOTE, "note: %s is trendbot's own checkout; writing trendbot.toml, sources/ and digests/ "
                "there, beside its tracked sources/*.toml (a folder of your own: trendbot init --dir ~/trendbot)",
                checkout)

    targets = [(templates / CONFIG_NAME, directory / CONFIG_NAME)]
    targets += [(entry, directory / "sources" / entry.name)
                for entry in sorted((templates / "sources").iterdir(), key=lambda e: e.name)
                if entry.name.endswith(".toml")]
    (directory / "sources").mkdir(parents=True, exist_ok=True)
    (directory / "digests").mkdir(parents=True, exist_ok=True)
    for template, target in targets:
        if target.exists():
            click.echo(f"kept    {display_path(target)} (already exists)")
            continue
        target.write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
        click.echo(f"wrote   {display_path(target)}")


def own_checkout(directory: Path) -> Path | None:
    """The checkout of trendbot itself that holds `directory` (its pyproject.toml names the
    project `trendbot`), or None: a user's config written there mixes with the repository's."""
    folder = directory.expanduser().resolve()
    for candidate in (folder, *folder.parents):
        project = candidate / "pyproject.toml"
        if (candidate / "trendbot" / "__init__.py").is_file() and project.is_file():
            try:
                text = project.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
            return candidate if re.search(r'^name\s*=\s*"trendbot"', text, re.MULTILINE) else None
    return None


def run_fetch(app: Context, names: list[str] | None, day: date | None, err: bool = False) -> int:
    """Fetch with a progress bar on a terminal and a plain line per source otherwise; return
    how many sources failed. A source's line is a result (stdout; stderr with `err`, keeping
    stdout for a digest printed there); a failure is said once, on stderr."""
    config = app.config
    sources = config.chosen(names)
    if not sources:  # nothing would be fetched: a "quiet day" digest would be a lie
        from trendbot.config import display_path

        folder = display_path(config.sources_dir).rstrip("/") + "/"
        if not config.sources:
            raise UsageError(f"no sources in {folder} (trendbot init writes the defaults)")
        raise UsageError(f"no enabled source in {folder} (each has enabled = false; name one with --source)")
    from trendbot import jobs

    def show(outcome, echo=None) -> None:
        if outcome.status == "failed":
            log.error("%s failed: %s", outcome.name, outcome.brief_error, extra={"fields": {"source": outcome.name}})
        elif not app.quiet:
            (echo or functools.partial(click.echo, err=err))(outcome.line())
        for level, text in outcome.diagnostics():  # a note or warning is a diagnostic: stderr
            log.log(NOTE if level == "note" else logging.WARNING, "%s", text, extra={"fields": {"source": outcome.name}})

    with app.store() as store:
        if sys.stderr.isatty() and not app.quiet and not app.json_logs:
            from rich.progress import Progress

            with Progress(transient=True, redirect_stderr=True, redirect_stdout=not err) as progress:
                task = progress.add_task("fetching", total=len(sources))

                def done(outcome) -> None:
                    progress.advance(task)
                    show(outcome, lambda line: progress.console.print(line, markup=False, highlight=False))

                report = jobs.fetch(config, store, names, day, on_done=done)
        else:
            report = jobs.fetch(config, store, names, day, on_done=show)
    return len(report.failed)


@cli.command()
@click.option("--source", "names", multiple=True, metavar="NAME",
              help="Fetch only this source (repeatable); a disabled source can be named.")
@click.option("--date", "day_text", metavar="D",
              help="Backfill day D (YYYY-MM-DD, today, yesterday) where the source supports it.")
@pass_app
@handle_errors
def fetch(app: Context, names: tuple[str, ...], day_text: str | None) -> None:
    """Fetch every enabled source now, concurrently, and store new and changed items.

    \b
    Examples:
      trendbot fetch
      trendbot fetch --source huggingface --date 2024-08-26
    """
    day = app.day(day_text) if day_text else None
    failed = run_fetch(app, list(names) or None, day)
    sys.exit(1 if failed else 0)


@cli.command()
@click.option("--date", "day_text", default="today", show_default=True, metavar="D",
              help="The day: YYYY-MM-DD, today or yesterday, in the configured time zone.")
@click.option("--week", "week_text", metavar="D",
              help="Instead of a day: the week holding day D (weeks as [blog] week_starts), `### 이번 주 트렌드`.")
@click.option("--fetch", "fetch_first", is_flag=True,
              help="Fetch every enabled source first; for a past day, sources that can (hf_papers) fetch that day.")
@click.option("--out", metavar="FILE|-", help="Write here instead of digests/D.md; `-` is stdout.")
@click.option("--publish", is_flag=True,
              help="Write the section into the blog post ([blog] in trendbot.toml), else digests/D.md.")
@click.option("--dry-run", is_flag=True, help="With --publish: print the diff, write nothing anywhere.")
@click.option("--force", is_flag=True, help="With --publish: replace the block, your edits in it included.")
@click.option("--commit", "commit", flag_value=True, default=None,
              help="With --publish: git commit the post if it changed (never your uncommitted work).")
@pass_app
@handle_errors
def digest(app: Context, day_text: str, week_text: str | None, fetch_first: bool, out: str | None,
           publish: bool, dry_run: bool, force: bool, commit: bool | None) -> None:
    """Render the `### 데일리 트렌드` section for one day (or `--week`'s roll-up).

    With --publish the section goes between trendbot's marker comments in the day's blog post,
    leaving the rest of the post as it is; your edits in the block are merged with the update.
    A block that cannot be read as lines is left as it is, the new version goes to
    digests/D.md and the exit status is 1. --dry-run, --force and --commit imply --publish.

    \b
    Examples:
      trendbot digest --date today --fetch --publish
      trendbot digest --date yesterday --out -
      trendbot digest --week today --publish --dry-run
    """
    from trendbot import jobs, schedule
    from trendbot.config import display_path
    from trendbot.timeutil import utcnow

    day = app.day(week_text, "--week") if week_text else app.day(day_text)
    publish = publish or dry_run or force or bool(commit)
    if publish and out:
        raise UsageError("--out cannot be combined with --publish (the post or digests/D.md is the output)")
    now = utcnow()
    failed = run_fetch(app, None, schedule.backfill_day(day, now, app.config.tz), err=True) if fetch_first else 0
    if publish:
        with app.store() as store:
            if week_text:
                published = jobs.publish_week(app.config, store, day, now, dry_run=dry_run, force=force, commit=commit)
            else:
                published = jobs.publish_day(app.config, store, day, now, dry_run=dry_run, force=force, commit=commit)
        result = published.result
        if result.diff and dry_run:
            click.echo(result.diff, nl=False)
        log.log(logging.ERROR if published.failed else NOTE, "%s", result.message)
        sys.exit(1 if failed or published.failed else 0)
    with app.store() as store:
        made = (jobs.build_week(app.config, store, day, now) if week_text
                else jobs.build_digest(app.config, store, day, now))
    if out == "-":
        click.echo(made.markdown, nl=False)
    else:
        from trendbot.files import write_atomic

        target = Path(out) if out else app.config.digests_dir / f"{made.name}.md"
        write_atomic(target, made.markdown)
        log.log(NOTE, "wrote %s (%d stories)", display_path(target), len(made.stories))
    sys.exit(1 if failed or made.all_failed else 0)


@cli.command()
@click.option("--date", "day_text", default="today", show_default=True, metavar="D", help="The day to list.")
@click.option("--source", metavar="NAME", help="Only items of this source.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@pass_app
@handle_errors
def items(app: Context, day_text: str, source: str | None, as_json: bool) -> None:
    """List the stored items of a day.

    With --json each item also has `taste`: its story's taste term in the day's ranking
    ([taste] weight × what your edits taught; 0 before any, see `trendbot taste`).

    \b
    Examples:
      trendbot items --date yesterday
      trendbot items --source geeknews --json
    """
    day = app.day(day_text)
    app.check_source(source)
    with app.store() as store:
        rows = store.items_of_day(day, source)
        terms = None
        if as_json:
            from trendbot import jobs

            terms = jobs.taste_terms(app.config, store, day)
    show_items(rows, as_json, f"no items for {day.isoformat()}",
               lambda row: row.published_at.astimezone(app.config.tz).strftime("%H:%M") if row.published_at else "--:--",
               terms)


def show_items(rows: list, as_json: bool, none: str, when, terms: dict[str, float] | None = None) -> None:
    """Items as one JSON array (the same fields for `items` and `search`), or two lines each."""
    if as_json:
        listed = [row.to_json() | ({"taste": round(terms.get(row.id, 0.0), 4)} if terms is not None else {})
                  for row in rows]
        click.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(none)
    for row in rows:
        click.echo(f"{when(row)}  {row.source:<12} {row.title[:90]}\n       {row.url}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts (the same keys for every kind).")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 3650), metavar="N",
              help="The history shown: attempts, failures and new items per day of the last N days (today included).")
@pass_app
@handle_errors
def sources(app: Context, as_json: bool, days: int) -> None:
    """Each source: kind, interval, last success, last error, next run, staleness, items
    stored, and its record of the last N days (attempts, failures, success rate, new items
    per day as bars, since when it has been failing); and the last day whose section was
    published. Attempts are kept `[store] history` (90 days by default).

    \b
    Examples:
      trendbot sources
      trendbot sources --days 30
      trendbot sources --json
    """
    from trendbot import kinds, notify, schedule
    from trendbot.timeutil import format_duration, local_times, shown_time, utcnow

    config = app.config
    now = utcnow()
    with app.store() as store:
        states, counts = store.states(), store.counts_by_source()
        memories = {source.name: store.memory(source.name) for source in config.sources}
        last_published = store.last_published_day()
        history = notify.daily(store.attempts(notify.window_start(days, now, config.tz)),
                               [source.name for source in config.sources], days, now, config.tz)
        outages = {source.name: notify.failing_since(store.outage_run(source.name)) for source in config.sources}
    rows = []
    for source in config.sources:
        state = states.get(source.name)
        next_run = schedule.next_run(now, state, source.every) if state and state.last_attempt_at else None
        describe = kinds.get(source.kind).describe
        stale = schedule.stale_since(now, state, source.stale_after or config.settings.digest.stale_after)
        rows.append({
            "name": source.name, "kind": source.kind, "enabled": source.enabled,
            "every": format_duration(source.every),
            "last_success": state.last_success_at.isoformat() if state and state.last_success_at else None,
            "last_error": state.last_error if state else None,
            "last_warning": state.last_warning if state else None,
            "last_error_at": state.last_error_at.isoformat() if state and state.last_error_at else None,
            "next_run": next_run.isoformat() if next_run else None,
            "not_modified": bool(state and state.not_modified and not state.last_error),
            "stale_since": stale.isoformat() if stale else None,
            "items": counts.get(source.name, 0),
            "last_published_day": last_published.isoformat() if last_published else None,
            "details": describe(memories[source.name], source, now) if describe else [],
            "failing_since": outages[source.name].isoformat() if outages[source.name] else None,
            "history": history[source.name],
        })
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no sources configured (run `trendbot init`)")
    tz = config.tz
    for row in rows:
        def local(value: str | None) -> str:  # one format for every time, in the configured zone
            return shown_time(datetime.fromisoformat(value), now, tz) if value else "never"

        flag = "" if row["enabled"] else " (disabled)"
        click.echo(f"{row['name']}{flag}  [{row['kind']}, every {row['every']}]  {row['items']} items")
        next_run = row["next_run"] and ("due now" if datetime.fromisoformat(row["next_run"]) <= now
                                        else local(row["next_run"]))
        click.echo(f"  last success: {local(row['last_success'])}   next run: {next_run or 'on next fetch'}")
        if row["last_error"]:
            click.echo(f"  last error ({local(row['last_error_at'])}): {local_times(row['last_error'], tz)}")
        if row["not_modified"]:
            click.echo("  last fetch: not modified")
        if row["stale_since"]:
            click.echo(f"  stale: nothing new since {local(row['stale_since'])}")
        if row["last_warning"]:
            click.echo(f"  warning: {local_times(row['last_warning'], tz)}")
        for line in row["details"]:
            click.echo(f"  {local_times(line, tz)}")
        click.echo(f"  last {days} day{'s' if days != 1 else ''}: {notify.summary(row['history'])}; "
                   f"new items per day {notify.sparkline(row['history'])} "
                   f"({' '.join(str(day['new_items']) for day in row['history'])})")
        if row["failing_since"]:
            click.echo(f"  failing since {local(row['failing_since'])}")
    click.echo(f"last published day: {last_published.isoformat() if last_published else 'never'}")


@cli.command()
@click.argument("query")
@click.option("--limit", default=20, show_default=True, metavar="N", help="At most N results.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array with the fields of `items --json` (`taste` too).")
@pass_app
@handle_errors
def search(app: Context, query: str, limit: int, as_json: bool) -> None:
    """Search the stored titles and the start of each text, best match first.

    Every word of QUERY must appear, anywhere inside a word: `하이퍼클로바` finds
    "하이퍼클로바X는", `llama` finds "Llama-3". Case does not matter. Quotes and other signs are
    plain characters. Words of three characters or more use the index and rank the results
    (words that are rarer and found in shorter texts count more); a query of only shorter
    words is looked for one item at a time, newest first.

    \b
    Examples:
      trendbot search 하이퍼클로바
      trendbot search "sparse attention" --json
    """
    if not query.strip():
        raise UsageError("search needs a non-empty QUERY")
    with app.store() as store:
        rows = store.search(query, limit)
        terms = None
        if as_json:
            from trendbot import jobs

            terms = {}
            for day in sorted({row.day for row in rows}):
                terms.update(jobs.taste_terms(app.config, store, day))
    show_items(rows, as_json, "no matches", lambda row: row.day.isoformat(), terms)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for scripts.")
@click.option("--learn", is_flag=True, help="Read your edits in the blog's recent posts now (a publish does it too).")
@click.option("--forget", is_flag=True, help="Delete every verdict: the ranking is popularity alone again.")
@click.option("--top", default=10, show_default=True, metavar="N", type=click.IntRange(1, 1000),
              help="Show the N features that most raise and the N that most lower a story.")
@pass_app
@handle_errors
def taste(app: Context, as_json: bool, learn: bool, forget: bool, top: int) -> None:
    """What trendbot learned from your edits of its lines: how many stories you deleted, kept,
    moved up or annotated, and the words, sources, accounts and sites that most raise and lower
    a story, with their weights.

    Your verdicts are read from trendbot's blocks in the blog's posts of the last
    [taste] lookback (8 weeks by default) whenever trendbot publishes, or now with --learn;
    a block you have not touched says nothing. A story's score gains [taste] weight × taste,
    taste being in (-1, 1). Nothing of it leaves this machine, and learning never writes to
    a post. --forget and --learn together start over from what the posts say now.

    \b
    Examples:
      trendbot taste
      trendbot taste --learn --json
      trendbot taste --forget
    """
    from trendbot import jobs
    from trendbot import taste as tastes
    from trendbot.timeutil import utcnow

    config = app.config
    done: dict = {}
    with app.store() as store:
        if forget:
            done["forgot"] = store.forget_verdicts()
        if learn:
            if config.settings.blog.repo is None:
                raise UsageError("--learn reads the blog's posts, and [blog] repo is not set in trendbot.toml")
            learned = jobs.learn_taste(config, store, utcnow())
            for warning in learned.warnings:
                log.warning("%s", warning)
            done["learned"] = {"posts": learned.posts, "blocks": learned.blocks, "verdicts": learned.verdicts,
                               "recorded": learned.recorded}
        counts = store.verdict_counts()
        model = tastes.learn(store.verdicts())
    raising, lowering = model.explain(top)
    report = {
        "verdicts": {name: counts.get(name, 0) for name in ("deleted", "kept", "moved", "annotated")},
        "total": sum(counts.values()), "weight": config.settings.taste.weight,
        "lookback_days": config.settings.taste.lookback.days,
        "raising": [_weight_json(w) for w in raising], "lowering": [_weight_json(w) for w in lowering],
        **done,
    }
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    show_taste(report, model.empty)


def _weight_json(weight) -> dict:
    return {"feature": weight.feature, "weight": round(weight.weight, 3),
            "yes": round(weight.yes, 2), "no": round(weight.no, 2)}


def show_taste(report: dict, empty: bool) -> None:
    if "forgot" in report:
        click.echo(f"forgot {report['forgot']} verdicts")
    if "learned" in report:
        learned = report["learned"]
        click.echo(f"read {learned['blocks']} blocks in {learned['posts']} posts: {learned['verdicts']} verdicts, "
                   f"{learned['recorded']} new or changed")
    counts = report["verdicts"]
    click.echo(f"{report['total']} verdicts: " + ", ".join(f"{counts[name]} {name}" for name in counts)
               + f"  (weight {report['weight']:g}, lookback {report['lookback_days']} days)")
    if empty:
        click.echo("nothing learned yet: the ranking is popularity alone until you have both deleted and kept lines")
        return
    for title, rows in (("raise a story", report["raising"]), ("lower a story", report["lowering"])):
        click.echo(f"most {title}:")
        for row in rows:
            click.echo(f"  {row['weight']:+.2f}  {row['feature']:<40} yes {row['yes']:g}, no {row['no']:g}")


@cli.command()
@pass_app
@handle_errors
def run(app: Context) -> None:
    """The daemon: fetch each source at its `every`, publish at `[schedule] publish_at`,
    re-publish the previous day at `settle_at`, publish the week's roll-up after the week's
    last day, and catch up days missed while it was off.

    One per database (a second one exits 2). A database another process holds at start is
    waited for, one line per try, about five minutes, then exit 1. SIGTERM, SIGHUP or Ctrl-C
    stops it once the running job ends. Logs one line per job run on stderr (-q: errors only;
    --json-logs for JSON).

    \b
    Examples:
      trendbot run
      trendbot run --json-logs --db /var/lib/trendbot/trendbot.db
    """
    from trendbot.daemon import Daemon

    setup_logging(app.verbose, app.quiet, app.json_logs, daemon=True, tz=app.config.tz)
    if not app.verbose:
        # the daemon's own job line already carries each source's counts, and what a kind
        # tells along the way (a mirror that failed before the next one answered) is for -v
        for name in DAEMON_QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)
    sys.exit(Daemon(app.config).run())


@cli.command(name="notify")
@click.option("--test", "test", is_flag=True, help="Send one test message to each URL and say whether it got through.")
@pass_app
@handle_errors
def notify_command(app: Context, test: bool) -> None:
    """The messages of `[notify]`: which services get them (each URL shown only as its scheme
    and host: the URLs hold tokens) and which events are sent. A day's section first
    published, a source down for `down_after` and back, a publish that failed.

    With --test, one message goes to each URL, and each line says whether it got through;
    the exit status is 1 when one did not.

    \b
    Examples:
      trendbot notify
      trendbot notify --test
    """
    from trendbot import notify
    from trendbot.config import display_path
    from trendbot.timeutil import format_duration, utcnow

    settings = app.config.settings
    if not settings.notify.configured:
        raise UsageError("no [notify] urls (or urls_env) in trendbot.toml: nowhere to send a message")
    urls = notify.urls_of(settings.notify, where=display_path(app.config.path) if app.config.path else "trendbot.toml")
    if not test:
        click.echo(f"messages: {', '.join(settings.notify.on) or 'none'}; down after "
                   f"{format_duration(settings.notify.down_after)} of failures")
        for n, url in enumerate(urls, 1):
            click.echo(f"{n}. {notify.service_of(url)}")
        return
    message = notify.test_message(utcnow())
    failed = 0
    for n, url in enumerate(urls, 1):
        delivery = notify.send_one(url, message, settings.http)
        failed += not delivery.ok
        click.echo(f"{n}. {delivery.service}: " + ("sent" if delivery.ok else f"NOT SENT: {delivery.reason}"))
    if failed:
        log.error("error: %d of %d URL(s) did not get the test message", failed, len(urls))
        sys.exit(1)


def main() -> None:
    """The console script: click's own handling, except that Ctrl-C is exit 130 with one short
    line (click says "Aborted!" and exits 1, the status of a failed source)."""
    try:
        cli.main(prog_name="trendbot", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("trendbot: interrupted; nothing was left half written", err=True)
        sys.exit(INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
