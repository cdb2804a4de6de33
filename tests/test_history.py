"""Each source's fetch history (`fetch_history`, `trendbot sources --days`): real fetches of a
local feed server, by the daemon's fetch job at chosen times and by `trendbot fetch`, read back
through the real CLI's text and JSON."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from conftest import read_data
from test_notify import Switch
from trendbot.daemon import Daemon
from trendbot.jobs import load as load_config

KST = ZoneInfo("Asia/Seoul")


def at(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour), KST)


def sources_json(run, *args: str) -> dict:
    result = run("sources", "--json", *args)
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_history_counts_attempts_failures_and_new_items_across_an_outage(project, run, httpserver):
    switch = Switch(httpserver)
    project.add_source("lab", kind="feed", url=switch.url)
    daemon = Daemon(load_config())
    today = datetime.now(KST).date()
    before, yesterday = today - timedelta(days=2), today - timedelta(days=1)
    daemon.fetch_job("lab", now=at(before, 10))        # 2 new items
    daemon.fetch_job("lab", now=at(before, 11))        # nothing new
    switch.failing = True
    daemon.fetch_job("lab", now=at(yesterday, 0))      # a day ago or more at any time of day: shown as a date
    daemon.fetch_job("lab", now=at(yesterday, 1))

    down = sources_json(run, "--days", "3")["lab"]
    assert down["failing_since"] == at(yesterday, 0).astimezone(ZoneInfo("UTC")).isoformat()
    text = run("sources", "--days", "3").stdout
    assert f"  failing since {yesterday.isoformat()} 00:00 KST\n" in text

    switch.failing = False
    switch.body = read_data("feeds/geeknews_atom_2026-09-29.xml")   # 50 items the store has not seen
    daemon.fetch_job("lab", now=at(today, 0))
    row = sources_json(run, "--days", "3")["lab"]
    assert row["history"] == [
        {"day": before.isoformat(), "attempts": 2, "failures": 0, "new_items": 2},
        {"day": yesterday.isoformat(), "attempts": 2, "failures": 2, "new_items": 0},
        {"day": today.isoformat(), "attempts": 1, "failures": 0, "new_items": 50},
    ]
    assert row["failing_since"] is None
    text = run("sources", "--days", "3").stdout
    assert "  last 3 days: 5 attempts, 2 failed (60% ok); new items per day ▂▁█ (2 0 50)\n" in text
    assert "failing since" not in text
    assert [day["day"] for day in sources_json(run, "--days", "2")["lab"]["history"]] == \
        [yesterday.isoformat(), today.isoformat()]


def test_the_clis_fetches_count_and_a_source_never_fetched_has_empty_days(project, run, httpserver):
    switch = Switch(httpserver)
    project.add_source("lab", kind="feed", url=switch.url)
    project.add_source("idle", kind="feed", url=switch.url, enabled=False)
    assert run("fetch").exit_code == 0
    switch.failing = True
    assert run("fetch").exit_code == 1
    rows = sources_json(run)
    assert len(rows["lab"]["history"]) == 7
    assert rows["lab"]["history"][-1]["attempts"] == 2 and rows["lab"]["history"][-1]["failures"] == 1
    assert rows["lab"]["history"][-1]["new_items"] == 2
    assert all(day == {**day, "attempts": 0, "failures": 0, "new_items": 0} for day in rows["idle"]["history"])
    text = run("sources").stdout
    assert "  last 7 days: no attempt; new items per day ······· (0 0 0 0 0 0 0)\n" in text
    assert "  last 7 days: 2 attempts, 1 failed (50% ok); new items per day ······█ (0 0 0 0 0 0 2)\n" in text


def test_attempts_older_than_store_history_are_pruned(project, run, httpserver):
    switch = Switch(httpserver)
    project.add_source("lab", kind="feed", url=switch.url)
    now = datetime.now(KST)
    Daemon(load_config()).fetch_job("lab", now=now - timedelta(days=40))
    assert run("fetch").exit_code == 0                       # kept: the default is 90 days
    assert len(project.rows("select * from fetch_history")) == 2
    assert sum(day["attempts"] for day in sources_json(run, "--days", "60")["lab"]["history"]) == 2
    project.write_config(store={"history": "30d"})
    assert run("fetch").exit_code == 0
    kept = project.rows("select at from fetch_history")
    assert len(kept) == 2 and all(datetime.fromisoformat(row["at"]) > now - timedelta(days=30) for row in kept)
    assert sum(day["attempts"] for day in sources_json(run, "--days", "60")["lab"]["history"]) == 2


def test_store_history_is_checked(project, run):
    project.write_config(store={"history": "2h"})
    result = run("sources")
    assert result.exit_code == 2 and "store.history" in result.stderr
