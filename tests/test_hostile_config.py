"""Input that looks right but is not: numbers for times, strings for numbers, misspelt source
names, NUL characters in paths, and a database from a newer trendbot.

Each is written as a person would write it into trendbot.toml (or made as a newer trendbot would
leave the database) and run through the real CLI: exit 2, the file and the key named, nothing
changed.
"""

from __future__ import annotations

import sqlite3
from datetime import date, time, timedelta

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from trendbot.config import ScheduleConfig
from trendbot.jobs import load as load_config
from trendbot.store import SCHEMA_VERSION

TIME_KEYS = ("publish_at", "settle_at", "week_at")


def error_line(result) -> str:
    assert result.exit_code == 2, result.output
    return result.stderr.strip()


# -- times of day ------------------------------------------------------------------------------

def test_times_are_hh_mm_strings_or_tomls_own_times(project):
    (project.root / "trendbot.toml").write_text(
        '[schedule]\npublish_at = "7:05"\nsettle_at = 09:15:00\nweek_at = "off"\n', encoding="utf-8")
    schedule = load_config().settings.schedule
    assert (schedule.publish_at, schedule.settle_at, schedule.week_at) == (time(7, 5), time(9, 15), None)


@pytest.mark.parametrize("key", TIME_KEYS)
@pytest.mark.parametrize("value, shown", [(2330, "2330"), (23.5, "23.5"), ("2330", '"2330"'),
                                          ("23:30pm", '"23:30pm"'), ("24:00", '"24:00"'), (True, "true")])
def test_a_time_that_is_not_hh_mm_is_a_configuration_error_naming_the_key(project, run, key, value, shown):
    project.write_config(schedule={key: value})
    assert error_line(run("sources")) == (f'trendbot: error: trendbot.toml: schedule.{key}: {shown} is not a time '
                                          f'of day: write it "HH:MM", in quotes (e.g. "23:30")')


def test_a_toml_date_time_is_not_a_time_of_day(project, run):
    (project.root / "trendbot.toml").write_text("[schedule]\npublish_at = 2026-12-02T23:30:00\n", encoding="utf-8")
    assert "trendbot.toml: schedule.publish_at: 2026-12-02 23:30:00 is not a time of day" in error_line(run("sources"))


@given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_every_hh_mm_reads_as_that_time(hour, minute):
    for text in (f"{hour:02d}:{minute:02d}", f"{hour}:{minute:02d}", f" {hour:02d}:{minute:02d} "):
        assert ScheduleConfig.model_validate({"publish_at": text}).publish_at == time(hour, minute)


@given(st.sampled_from(TIME_KEYS), st.integers(min_value=-10**6, max_value=10**6) | st.floats(allow_nan=False))
def test_no_number_is_a_time_of_day(key, number):
    # 2330 was read as 2330 seconds after midnight: "publish at 00:38"
    with pytest.raises(ValidationError, match="is not a time of day"):
        ScheduleConfig.model_validate({key: number})


# -- numbers, booleans, strings: what TOML says they are -------------------------------------------

@pytest.mark.parametrize("section, key, value, message", [
    ("digest", "limit", "5", 'expected a whole number, not a string "5" (without the quotes: limit = 5)'),
    ("digest", "limit", True, "expected a whole number, not a boolean true"),
    ("digest", "week_limit", 2.0, "expected a whole number, not a decimal number 2.0"),
    ("http", "retries", "2", 'expected a whole number, not a string "2" (without the quotes: retries = 2)'),
    ("blog", "commit", "yes", 'expected true or false, not a string "yes"'),
    ("blog", "create", 1, "expected true or false, not a whole number 1"),
    ("digest", "section_title", 5, "expected a string in quotes, not a whole number 5"),
])
def test_a_value_of_the_wrong_toml_type_is_refused(project, run, section, key, value, message):
    project.write_config(**{section: {key: value}})
    assert error_line(run("sources")) == f"trendbot: error: trendbot.toml: {section}.{key}: {message}"


def test_a_source_file_value_of_the_wrong_type_is_refused(project, run):
    project.add_source("lab", kind="feed", url="https://lab.example.org/feed", enabled="false")
    assert error_line(run("sources")) == ('trendbot: error: sources/lab.toml: enabled: expected true or false, '
                                          'not a string "false" (without the quotes: enabled = false)')
    project.add_source("lab", kind="feed", url="https://lab.example.org/feed", max_items="20")
    assert "sources/lab.toml: max_items: expected a whole number, not a string \"20\"" in error_line(run("sources"))
    # a list written as one string: its value is not repeated (a list of secret URLs must stay secret)
    project.add_source("lab", kind="feed", url="https://lab.example.org/feed", include="tgram://123:SECRET/42")
    shown = error_line(run("sources"))
    assert shown == "trendbot: error: sources/lab.toml: include: expected a list [...], not a string"


def test_tomls_own_dates_and_durations_in_strings_still_read(project):
    """Strict types, but not stricter than TOML: a date is a date, in quotes or not, and a
    duration is a string ("30m") or a number of seconds."""
    project.add_source("lab", kind="feed", url="https://lab.example.org/feed", every="45m", stale_after=7200)
    for first_day in ('"2024-08-05"', "2024-08-05"):
        (project.root / "trendbot.toml").write_text(
            f'[blog]\nfirst_day = {first_day}\n[digest]\nstale_after = "3d"\n', encoding="utf-8")
        config = load_config()
        assert config.settings.blog.first_day == date(2024, 8, 5)
        assert config.settings.digest.stale_after == timedelta(days=3)
        assert (config.sources[0].every, config.sources[0].stale_after) == (timedelta(minutes=45), timedelta(hours=2))
    (project.root / "trendbot.toml").write_text("[blog]\nfirst_day = 20240805\n", encoding="utf-8")
    with pytest.raises(Exception, match="blog.first_day: 20240805 is not a date"):
        load_config()


# -- per_source names a source -------------------------------------------------------------------

def test_per_source_names_configured_sources(project, run):
    project.add_source("hf", kind="hf_papers")
    project.add_source("lab", kind="feed", url="https://lab.example.org/feed", enabled=False)
    project.write_config(digest={"per_source": {"lab": 2, "hf": 5}})
    assert run("sources").exit_code == 0  # a disabled source is still a source
    project.write_config(digest={"per_source": {"hf": 5, "nosuch": 2}})
    assert error_line(run("digest", "--out", "-")) == (
        'trendbot: error: trendbot.toml: digest.per_source.nosuch: no source named "nosuch" (known: hf, lab)')
    project.write_config(digest={"per_source": {"hf": -1}})
    assert "trendbot.toml: digest.per_source.hf: Input should be greater than or equal to 0" in error_line(run("sources"))


def test_per_source_without_any_source_says_where_sources_are_looked_for(project, run):
    project.write_config(digest={"per_source": {"geeknews": 3}})
    assert error_line(run("items")) == ('trendbot: error: trendbot.toml: digest.per_source.geeknews: no source named '
                                        '"geeknews" (known: none configured in sources)')


# -- a NUL in a path -----------------------------------------------------------------------------

@pytest.mark.parametrize("section, key", [(None, "db"), (None, "sources_dir"), (None, "digests_dir"),
                                          ("blog", "repo"), ("blog", "post"), ("blog", "new_post")])
def test_a_nul_in_a_path_names_the_key(project, run, section, key):
    value = "blog\x00/x.md"
    project.write_config(**({section: {key: value}} if section else {key: value}))
    name = f"{section}.{key}" if section else key
    assert error_line(run("items")) == (
        f'trendbot: error: trendbot.toml: {name}: "blog\\u0000/x.md" holds a NUL character, which no file name can')


def test_an_environment_variable_name_with_a_nul_is_refused(project, run):
    project.write_config(summarizer={"kind": "openai", "api_key_env": "KEY\x00"})
    assert "trendbot.toml: summarizer.api_key_env: String should match pattern" in error_line(run("items"))


# -- a database from a newer trendbot ---------------------------------------------------------------

def newer_database(path, wal: bool) -> bytes:
    """What a newer trendbot leaves: its own schema and a user_version past ours."""
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("create table items_v99 (id text primary key, body text)")
    conn.execute("insert into items_v99 values ('a', 'from the future')")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
@pytest.mark.parametrize("command", [("items",), ("sources",), ("digest", "--out", "-"), ("search", "future")])
def test_a_database_made_by_a_newer_trendbot_is_refused_and_left_as_it_was(project, run, wal, command):
    project.add_source("lab", kind="feed", url="https://lab.example.org/feed")
    before = newer_database(project.db_path, wal)
    assert error_line(run(*command)) == (
        f"trendbot: error: {project.db_path}: this database was made by a newer trendbot (schema version 99; "
        f"this one knows up to {SCHEMA_VERSION}): upgrade trendbot to use it, or give this one its own --db; "
        "the file was not changed")
    assert project.db_path.read_bytes() == before
    assert sorted(p.name for p in project.root.glob("trendbot.db*")) == ["trendbot.db"]
