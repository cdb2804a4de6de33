"""The `trendbot` command. Thin: parses options, calls the same functions the daemon calls,
and turns `TrendbotError`s into a message on stderr and an exit status (DESIGN.md, "CLI").
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click

from trendbot import __version__
from trendbot.errors import TrendbotError, UsageError

if TYPE_CHECKING:
    from trendbot.config import Config
    from trendbot.store import Store

# Modules past click are imported where they are used, so `trendbot --help` and a typo in a
# command answer at once instead of loading pydantic, httpx and sqlite-utils first.

log = logging.getLogger("trendbot")


class Context:
    def __init__(self, config_path: str | None, db: str | None):
        self.config_path = config_path
        self.db = db
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

    def day(self, text: str) -> date:
        from trendbot.timeutil import parse_day, utcnow

        try:
            return parse_day(text, utcnow(), self.config.tz)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--date") from None


def handle_errors(func):
    """Turn trendbot's errors into `trendbot: error: ...` and the documented exit status."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TrendbotError as exc:
            click.echo(f"trendbot: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line; a record's `extra={"fields": {...}}` become top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        for key, value in (getattr(record, "fields", None) or {}).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(verbose: int, quiet: bool, json_logs: bool = False, level: int | None = None) -> None:
    if level is None:
        level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter() if json_logs
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # APScheduler's own warnings (a missed run) go through the same handler and format.
    for name, name_level in (("trendbot", level), ("apscheduler", max(level, logging.WARNING))):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(name_level)
        logger.propagate = False


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", metavar="FILE", envvar="TRENDBOT_CONFIG",
              help="trendbot.toml to use (else $TRENDBOT_CONFIG, else ./trendbot.toml, else defaults).")
@click.option("--db", metavar="FILE", help="SQLite database (else the config's `db`, default trendbot.db).")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
@click.option("--json-logs", is_flag=True, help="Log lines on stderr as JSON objects, for machines.")
@click.version_option(__version__, prog_name="trendbot")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db: str | None, verbose: int, quiet: bool,
        json_logs: bool) -> None:
    """Collect the day's AI trends (Hugging Face papers, GeekNews, X, feeds) and write a
    `### 데일리 트렌드` section for a Jekyll blog.

    Exit status: 0 all went well; 1 a source or step failed (everything else was still
    stored and written); 2 bad usage or bad configuration.
    """
    setup_logging(verbose, quiet, json_logs)
    ctx.obj = Context(config_path, db)
    ctx.obj.log_options = (verbose, quiet, json_logs)


pass_app = click.make_pass_decorator(Context)


@cli.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="Folder to write trendbot.toml and sources/ into.")
@handle_errors
def init(directory: Path) -> None:
    """Write trendbot.toml and the default sources/*.toml, never overwriting a file."""
    templates = resources.files("trendbot") / "templates"
    from trendbot.config import CONFIG_NAME, display_path

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


def run_fetch(app: Context, names: list[str] | None, day: date | None, err: bool = False) -> int:
    """Fetch with progress on a terminal and plain lines otherwise; return failed count.

    `err` sends the per-source lines to stderr, keeping stdout for a digest printed there."""
    config = app.config
    sources = config.chosen(names)
    if not sources:
        click.echo("no enabled sources (see sources/*.toml, or run `trendbot init`)", err=True)
        return 0
    from trendbot import jobs

    with app.store() as store:
        if sys.stderr.isatty():
            from rich.progress import Progress

            with Progress(transient=True) as progress:
                task = progress.add_task("fetching", total=len(sources))
                report = jobs.fetch(config, store, names, day,
                                    on_done=lambda outcome: (progress.advance(task),
                                                            progress.console.print(outcome.line(), markup=False,
                                                                                    highlight=False)))
        else:
            report = jobs.fetch(config, store, names, day,
                                on_done=lambda outcome: click.echo(outcome.line(), err=err))
    for outcome in report.failed:
        click.echo(f"trendbot: {outcome.name} failed: {outcome.error}", err=True)
    return len(report.failed)


@cli.command()
@click.option("--source", "names", multiple=True, metavar="NAME",
              help="Fetch only this source (repeatable); a disabled source can be named.")
@click.option("--date", "day_text", metavar="D",
              help="Backfill day D (YYYY-MM-DD, today, yesterday) where the source supports it.")
@pass_app
@handle_errors
def fetch(app: Context, names: tuple[str, ...], day_text: str | None) -> None:
    """Fetch every enabled source now, concurrently, and store new and changed items."""
    day = app.day(day_text) if day_text else None
    failed = run_fetch(app, list(names) or None, day)
    sys.exit(1 if failed else 0)


@cli.command()
@click.option("--date", "day_text", default="today", show_default=True, metavar="D",
              help="The day: YYYY-MM-DD, today or yesterday, in the configured time zone.")
@click.option("--fetch", "fetch_first", is_flag=True,
              help="Fetch every enabled source first; for a past day, sources that can (hf_papers) fetch that day.")
@click.option("--out", metavar="FILE|-", help="Write here instead of digests/D.md; `-` is stdout.")
@click.option("--publish", is_flag=True,
              help="Write the section into the blog post ([blog] in trendbot.toml), else digests/D.md.")
@click.option("--dry-run", is_flag=True, help="With --publish: print the diff, write nothing.")
@click.option("--force", is_flag=True, help="With --publish: replace the day's block even if edited by hand.")
@click.option("--commit", "commit", flag_value=True, default=None,
              help="With --publish: git commit the post in the blog repository if it changed.")
@pass_app
@handle_errors
def digest(app: Context, day_text: str, fetch_first: bool, out: str | None, publish: bool, dry_run: bool,
           force: bool, commit: bool | None) -> None:
    """Render the `### 데일리 트렌드` section for one day.

    With --publish the section goes between trendbot's marker comments in the day's blog post,
    leaving the rest of the post as it is; a block edited by hand is kept, the new version goes
    to digests/D.md and the exit status is 1. --dry-run, --force and --commit imply --publish.
    """
    from trendbot import jobs, schedule
    from trendbot.config import display_path
    from trendbot.timeutil import utcnow

    day = app.day(day_text)
    publish = publish or dry_run or force or bool(commit)
    if publish and out:
        raise UsageError("--out cannot be combined with --publish (the post or digests/D.md is the output)")
    now = utcnow()
    failed = run_fetch(app, None, schedule.backfill_day(day, now, app.config.tz), err=True) if fetch_first else 0
    if publish:
        with app.store() as store:
            published = jobs.publish_day(app.config, store, day, now, dry_run=dry_run, force=force, commit=commit)
        result = published.result
        if result.diff and dry_run:
            click.echo(result.diff, nl=False)
        click.echo(("trendbot: " if published.failed else "") + result.message, err=True)
        sys.exit(1 if failed or published.failed else 0)
    with app.store() as store:
        result = jobs.build_digest(app.config, store, day, now)
    if out == "-":
        click.echo(result.markdown, nl=False)
    else:
        from trendbot.publish import write_atomic

        target = Path(out) if out else app.config.digests_dir / f"{day.isoformat()}.md"
        write_atomic(target, result.markdown)
        click.echo(f"wrote {display_path(target)} ({len(result.stories)} stories)", err=True)
    sys.exit(1 if failed or result.all_failed else 0)


@cli.command()
@click.option("--date", "day_text", default="today", show_default=True, metavar="D", help="The day to list.")
@click.option("--source", metavar="NAME", help="Only items of this source.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@pass_app
@handle_errors
def items(app: Context, day_text: str, source: str | None, as_json: bool) -> None:
    """List the stored items of a day."""
    day = app.day(day_text)
    if source:
        app.config.source(source)  # an unknown name is a usage error, not "no items"
    with app.store() as store:
        rows = store.items_of_day(day, source)
    show_items(rows, as_json, f"no items for {day.isoformat()}",
               lambda row: row.published_at.astimezone(app.config.tz).strftime("%H:%M") if row.published_at else "--:--")


def show_items(rows: list, as_json: bool, none: str, when) -> None:
    """Items as one JSON array (the same fields for `items` and `search`), or two lines each."""
    if as_json:
        click.echo(json.dumps([row.to_json() for row in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(none)
    for row in rows:
        click.echo(f"{when(row)}  {row.source:<12} {row.title[:90]}\n       {row.url}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@pass_app
@handle_errors
def sources(app: Context, as_json: bool) -> None:
    """Each source: kind, interval, last success, last error, next run, items stored; and the
    last day whose section was published."""
    from trendbot import kinds, schedule
    from trendbot.timeutil import format_duration, utcnow

    config = app.config
    now = utcnow()
    with app.store() as store:
        states, counts = store.states(), store.counts_by_source()
        memories = {source.name: store.memory(source.name) for source in config.sources}
        last_published = store.last_published_day()
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
        })
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no sources configured (run `trendbot init`)")
    tz = config.tz
    for row in rows:
        def local(value: str | None) -> str:
            return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "never"

        flag = "" if row["enabled"] else " (disabled)"
        click.echo(f"{row['name']}{flag}  [{row['kind']}, every {row['every']}]  {row['items']} items")
        click.echo(f"  last success: {local(row['last_success'])}   next run: "
                   f"{local(row['next_run']) if row['next_run'] else 'on next fetch'}")
        if row["last_error"]:
            click.echo(f"  last error ({local(row['last_error_at'])}): {row['last_error']}")
        if row["not_modified"]:
            click.echo("  last fetch: not modified")
        if row["stale_since"]:
            click.echo(f"  stale: nothing new since {local(row['stale_since'])}")
        if row["last_warning"]:
            click.echo(f"  warning: {row['last_warning']}")
        for line in row.get("details", []):
            click.echo(f"  {line}")
    click.echo(f"last published day: {last_published.isoformat() if last_published else 'never'}")


@cli.command()
@click.argument("query")
@click.option("--limit", default=20, show_default=True, help="At most this many results.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@pass_app
@handle_errors
def search(app: Context, query: str, limit: int, as_json: bool) -> None:
    """Full-text search over stored titles and texts."""
    if not query.strip():
        raise UsageError("search needs a non-empty QUERY")
    with app.store() as store:
        rows = store.search(query, limit)
    show_items(rows, as_json, "no matches", lambda row: row.day.isoformat())


@cli.command()
@pass_app
@handle_errors
def run(app: Context) -> None:
    """The daemon: fetch each source at its `every`, publish at `[schedule] publish_at`,
    re-publish the previous day at `settle_at`, and catch up days missed while it was off.

    One per database (a second one exits 2). SIGTERM or Ctrl-C stops it once the running
    job ends. Logs one line per job run on stderr (info level unless -q; --json-logs for JSON).
    """
    from trendbot.daemon import Daemon

    verbose, quiet, json_logs = app.log_options
    if not quiet and not verbose:
        setup_logging(verbose, quiet, json_logs, level=logging.INFO)
        # The daemon's own job line already carries each source's counts.
        logging.getLogger("trendbot.fetch").setLevel(logging.WARNING)
    sys.exit(Daemon(app.config).run())


def main() -> None:
    cli(prog_name="trendbot")
