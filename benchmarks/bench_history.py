"""What a source's record costs: 20 sources fetched every 30 minutes for the whole default
`[store] history` (90 days: 86,400 attempts), then what `trendbot sources --days 7` reads (the
week's attempts, grouped per day, and each source's outage run), the `down`/`back` decision
after a fetch (one source's run), and the prune that follows every fetch. Printed in ms.

    python benchmarks/bench_history.py
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from trendbot import notify
from trendbot.store import Store

SOURCES, EVERY, DAYS = 20, timedelta(minutes=30), 90
KST = ZoneInfo("Asia/Seoul")


def timed(work, repeat: int = 20) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        work()
    return (time.perf_counter() - started) / repeat * 1000


def main() -> None:
    now = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "t.db") as store:
        names = [f"source{n}" for n in range(SOURCES)]
        rows, at = [], now - timedelta(days=DAYS)
        while at <= now:
            for n, name in enumerate(names):
                ok = not (n == 0 and at > now - timedelta(days=2))  # source0 down for two days
                rows.append((name, at.isoformat(timespec="seconds"), int(ok), 3 if ok else 0, None if ok else "HTTP 502"))
            at += EVERY
        with store.write():
            store.conn.executemany("insert into fetch_history (source, at, ok, new_items, error) values (?, ?, ?, ?, ?)", rows)
        print(f"{len(rows)} attempts of {SOURCES} sources over {DAYS} days")
        week = timed(lambda: notify.daily(store.attempts(notify.window_start(7, now, KST)), names, 7, now, KST))
        runs = timed(lambda: [notify.failing_since(store.outage_run(name)) for name in names])
        print(f"sources --days 7: the week's attempts per day {week:.1f} ms, every source's outage run {runs:.1f} ms")
        print(f"after a fetch: one source's down/back decision {timed(lambda: notify.outage(store.outage_run('source0'), timedelta(days=1))):.2f} ms "
              f"(down for two days: {len(store.outage_run('source0'))} attempts in its run), "
              f"a healthy one {timed(lambda: notify.outage(store.outage_run('source1'), timedelta(days=1))):.2f} ms")
        print(f"prune with nothing to remove {timed(lambda: store.prune_history(now - timedelta(days=DAYS + 1))):.2f} ms; "
              f"removing a day of attempts {timed(lambda: store.prune_history(now - timedelta(days=DAYS - 1)), 1):.1f} ms")


if __name__ == "__main__":
    main()
