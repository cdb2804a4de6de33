"""The ways people run trendbot every day, as shipped in examples/ and shown in the README.

The systemd unit is checked by `systemd-analyze verify` with trendbot where pipx puts it; the
crontab and the workflow are shown in the README as they are; the workflow is linted by
actionlint, and its own shell scripts (choosing the day, committing and pushing) are run
against real git repositories. Tools that are missing skip their test with the reason, or fail
it under $CI (`.ci/run` installs them).
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from conftest import read_data
from tools import actionlint
from tools.jekyll import require_or_skip

REPO = Path(__file__).parent.parent
KST = ZoneInfo("Asia/Seoul")
WORKFLOW = REPO / "examples/github-actions/trendbot.yml"
UNIT = REPO / "examples/trendbot.service"
CRONTAB = REPO / "examples/crontab"


def readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


# -- installing the command ----------------------------------------------------------------------

def test_readme_installs_the_command_with_pipx_where_the_unit_and_crontab_look():
    text = readme()
    running = text[text.index("## Running it every day"):text.index("## How it works")]
    commands = [line.split("#")[0].strip() for line in running.splitlines()]
    assert "pipx install ." in commands and "pipx install --force ." in commands
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(UNIT, encoding="utf-8")
    assert unit["Service"]["ExecStart"] == "%h/.local/bin/trendbot run"
    path_line = next(line for line in CRONTAB.read_text(encoding="utf-8").splitlines() if line.startswith("PATH="))
    assert path_line.startswith("PATH=/home/YOU/.local/bin:")


def test_pipx_puts_the_command_in_home_local_bin(tmp_path):
    """What the unit's ExecStart and the crontab's PATH assume, asked of pipx itself."""
    require_or_skip(None if shutil.which("pipx") else "pipx is not installed (apt-get install pipx)")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIPX_")}
    done = subprocess.run(["pipx", "environment", "--value", "PIPX_BIN_DIR"], capture_output=True, text=True,
                          env={**env, "HOME": str(tmp_path)}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == tmp_path / ".local" / "bin"


# -- systemd ---------------------------------------------------------------------------------------

def systemd_missing() -> str | None:
    if not shutil.which("systemd-analyze"):
        return "systemd-analyze is not installed (apt-get install systemd)"
    return None


def verify_unit(home: Path, runtime: Path) -> subprocess.CompletedProcess:
    """`systemd-analyze verify --user` as the user whose home is `home` (%h in the unit)."""
    runtime.mkdir(mode=0o700, exist_ok=True)
    return subprocess.run(["systemd-analyze", "verify", "--user", str(UNIT)], capture_output=True, text=True,
                          env={**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}, timeout=60)


def put_trendbot_where_pipx_does(home: Path) -> Path:
    """A working `trendbot` command at pipx's default place under `home`.

    Not a pipx install: pipx builds a fresh venv with pip, setuptools and every dependency from
    the package index, which a test cannot reach. The command runs this checkout's trendbot with
    the tests' Python, and pipx's choice of that path is checked by asking pipx itself."""
    command = home / ".local" / "bin" / "trendbot"
    command.parent.mkdir(parents=True)
    command.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m trendbot "$@"\n')
    command.chmod(0o755)
    return command


def test_systemd_unit_runs_the_daemon_and_restarts_on_failure():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(UNIT, encoding="utf-8")
    assert unit["Service"]["ExecStart"].endswith("trendbot run")
    assert unit["Service"]["Restart"] == "on-failure"
    assert unit["Service"]["RestartPreventExitStatus"] == "2"
    assert unit["Install"]["WantedBy"] == "default.target"


def test_systemd_verifies_the_unit_with_trendbot_installed_where_the_readme_puts_it(tmp_path):
    require_or_skip(systemd_missing())
    home = tmp_path / "home"
    home.mkdir()
    without = verify_unit(home, tmp_path / "run")
    assert without.returncode != 0  # verify does look for the command
    assert f"{home}/.local/bin/trendbot" in without.stderr

    command = put_trendbot_where_pipx_does(home)
    help_text = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and "Usage: trendbot" in help_text.stdout
    verified = verify_unit(home, tmp_path / "run")
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == ""  # no unknown key or bad value, which verify only warns about


def test_readme_shows_the_unit_file_as_it_is():
    assert "```ini\n" + UNIT.read_text(encoding="utf-8") + "```" in readme()


# -- cron --------------------------------------------------------------------------------------------

def crontab_entries() -> dict[str, list[str]]:
    """Each crontab command (between `cd … &&` and the log) with its five time fields."""
    lines = [line for line in CRONTAB.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert "CRON_TZ=Asia/Seoul" in lines
    entries = [line.split(None, 5) for line in lines if "trendbot" in line and "=" not in line.split()[0]]
    return {fields[5].split("&& ", 1)[1].split(" >>")[0]: fields[:5] for fields in entries}


def test_crontab_fetches_every_30_minutes_and_publishes_at_2330_seoul_time():
    by_command = crontab_entries()
    assert by_command["trendbot fetch"] == ["*/30", "*", "*", "*", "*"]
    assert by_command["trendbot digest --date today --fetch --publish"] == ["30", "23", "*", "*", "*"]
    assert by_command["trendbot digest --date yesterday --fetch --publish"] == ["0", "9", "*", "*", "*"]


def test_crontab_publishes_the_weeks_roll_up_when_the_daemon_would():
    """At `[schedule] week_at` (23:45) on the last day of a week starting on `[blog] week_starts`."""
    from trendbot.config import BlogConfig, ScheduleConfig
    from trendbot.daemon import WEEKDAYS

    minute, hour, dom, month, dow = crontab_entries()["trendbot digest --week today --publish"]
    week_at = ScheduleConfig().week_at
    assert (int(hour), int(minute)) == (week_at.hour, week_at.minute) and dom == month == "*"
    last_day = WEEKDAYS[(WEEKDAYS.index(BlogConfig().week_starts) - 1) % 7]
    cron_days = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
    assert cron_days[int(dow)] == last_day == "sunday"


def test_every_crontab_command_runs(project, run, httpserver):
    """Each command's words are the real CLI's: with --dry-run (publishing) it exits 0, with a
    recorded feed served from 127.0.0.1 as the one source."""
    httpserver.expect_request("/feed.xml").respond_with_data(
        read_data("feeds/hf_blog_rfeed_2026-03-03T1402Z.xml"), content_type="application/rss+xml")
    project.add_source("lab", kind="feed", url=httpserver.url_for("/feed.xml"))
    for command in crontab_entries():
        words = command.split()[1:]
        result = run(*words, *(["--dry-run"] if "--publish" in words else []))
        assert result.exit_code == 0, (command, result.output)


def test_readme_shows_the_crontab_as_it_is():
    crontab = CRONTAB.read_text(encoding="utf-8")
    assert "\nPATH=" in crontab
    assert "```\n" + crontab + "```" in readme()


# -- GitHub Actions ------------------------------------------------------------------------------------

def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def step(name: str) -> dict:
    [found] = [s for s in workflow()["jobs"]["trends"]["steps"] if s.get("name") == name]
    return found


def test_actions_workflow_passes_actionlint(tmp_path):
    require_or_skip(actionlint.missing())
    assert actionlint.lint(WORKFLOW) == []
    # the linter reads this workflow's outputs and permissions: a misspelt one is found
    broken = tmp_path / "trendbot.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("outputs.pushed ==", "outputs.pushd =="))
    [finding] = actionlint.lint(broken)
    assert finding["kind"] == "expression" and '"pushd"' in finding["message"]


def test_actions_workflow_is_scheduled_and_restores_the_database_from_the_cache():
    flow = workflow()
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    crons = [entry["cron"] for entry in triggers["schedule"]]
    assert "0 14 * * *" in crons and "0 0 * * *" in crons  # 23:00 and 09:00 in Seoul, in UTC
    assert "45 14 * * 0" in crons  # 23:45 in Seoul on Sunday, the last day of a Monday week: the roll-up
    assert triggers["workflow_dispatch"]["inputs"]["week"]["type"] == "boolean"
    restore, save = step("Restore the database"), step("Save the database")
    assert restore["uses"].startswith("actions/cache/restore@") and save["uses"].startswith("actions/cache/save@")
    assert restore["with"]["path"] == save["with"]["path"] == "~/.cache/trendbot"
    assert save["with"]["key"].startswith("trendbot-db-") and "trendbot-db-" in restore["with"]["restore-keys"]
    assert save["if"] == "always()"
    assert flow["env"]["TRENDBOT_DB"].startswith("~/.cache/trendbot/")  # in the cache, not in the blog
    names = [s.get("name") for s in flow["jobs"]["trends"]["steps"]]
    assert names.index("Restore the database") < names.index("Fetch") < names.index("Save the database")


def test_actions_workflow_installs_trendbot_from_the_one_spec_at_the_top(tmp_path):
    flow = workflow()
    assert flow["env"]["TRENDBOT_SPEC"] == "git+https://github.com/YOU/trendbot@main"
    scripts = [s.get("run", "") for job in flow["jobs"].values() for s in job.get("steps", [])]
    script = step("Install trendbot")["run"]
    assert [s for s in scripts if "pip install" in s] == [script]
    assert 'pip install "$TRENDBOT_SPEC"' in script and "git+" not in script
    # left as it is, the placeholder stops the run before pip, saying what to set
    done = subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True,
                          env={**os.environ, "TRENDBOT_SPEC": flow["env"]["TRENDBOT_SPEC"]}, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith("::error::Set TRENDBOT_SPEC at the top of this workflow")


def test_actions_workflow_gives_each_job_only_the_permission_it_uses():
    flow = workflow()
    assert flow["permissions"] == {}
    trends, deploy = flow["jobs"]["trends"], flow["jobs"]["deploy"]
    assert trends["permissions"] == {"contents": "write"}
    assert deploy["permissions"] == {"actions": "write"}
    # the deploy job runs only after a push, and only for a blog deployed by a workflow
    assert deploy["needs"] == "trends"
    assert deploy["if"] == "needs.trends.outputs.pushed == 'true' && needs.trends.outputs.deploy != ''"
    assert trends["outputs"] == {"pushed": "${{ steps.commit.outputs.pushed }}", "deploy": "${{ env.DEPLOY_WORKFLOW }}"}
    assert flow["env"]["DEPLOY_WORKFLOW"] == ""  # a branch-built blog needs nothing more
    [start] = deploy["steps"]
    assert start["run"] == 'gh workflow run "$DEPLOY_WORKFLOW" --ref "$BRANCH"'
    assert start["env"]["GH_TOKEN"] == "${{ github.token }}" and start["env"]["GH_REPO"] == "${{ github.repository }}"


def test_readme_shows_the_workflow_file_as_it_is():
    assert "```yaml\n" + WORKFLOW.read_text(encoding="utf-8") + "```" in readme()


def choose(tmp_path: Path, schedule: str, date: str = "", week: str = "false") -> dict[str, str]:
    """The outputs of the workflow's own day-choosing script, run as Actions would."""
    out = tmp_path / "out"
    out.write_text("")
    subprocess.run(["bash", "-e", "-c", step("Choose the day to publish")["run"]], check=True, env={
        **os.environ, "SCHEDULE": schedule, "INPUT_DATE": date, "INPUT_WEEK": week, "GITHUB_OUTPUT": str(out)})
    return dict(line.split("=", 1) for line in out.read_text().splitlines())


def test_actions_workflow_picks_the_seoul_day_for_each_schedule(tmp_path):
    seoul_today = datetime.now(KST).date()
    tonight = (seoul_today.isoformat(), (seoul_today - timedelta(days=1)).isoformat())  # a late start is past midnight
    assert choose(tmp_path, "17 */3 * * *") == {"day": "", "what": "day"}
    assert choose(tmp_path, "0 0 * * *") == {"day": (seoul_today - timedelta(days=1)).isoformat(), "what": "day"}
    day = choose(tmp_path, "0 14 * * *")
    assert day["what"] == "day" and day["day"] in tonight
    week = choose(tmp_path, "45 14 * * 0")
    assert week["what"] == "week" and week["day"] in tonight
    # run by hand: the date given, its week when asked for
    assert choose(tmp_path, "", "2026-06-12") == {"day": "2026-06-12", "what": "day"}
    assert choose(tmp_path, "", "2026-06-12", "true") == {"day": "2026-06-12", "what": "week"}


def test_actions_workflow_publishes_the_chosen_day_or_its_week():
    publish = step("Publish the day's section")
    assert publish["if"] == "steps.day.outputs.day != '' && steps.day.outputs.what == 'day'"
    assert publish["run"] == 'trendbot --db "$TRENDBOT_DB" digest --date "$DAY" --publish'
    week = step("Publish the week's roll-up")
    assert week["if"] == "steps.day.outputs.day != '' && steps.day.outputs.what == 'week'"
    assert week["run"] == 'trendbot --db "$TRENDBOT_DB" digest --week "$DAY" --publish'
    names = [s.get("name") for s in workflow()["jobs"]["trends"]["steps"]]
    assert names.index("Publish the week's roll-up") < names.index("Commit the post if it changed")


# -- the commit step, on real git repositories ---------------------------------------------------------

def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd,
                          capture_output=True, text=True, env=git_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def git_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}


class Blog:
    """A blog's GitHub repository (bare), the Actions checkout of it (shallow, as actions/checkout
    makes it) and the person's own clone, who pushes too."""

    def __init__(self, root: Path):
        self.origin, self.runner, self.person = root / "origin.git", root / "runner", root / "person"
        self.bin: list[str] = []  # folders put before $PATH in the runner's steps
        git(root, "init", "-q", "--bare", "-b", "main", str(self.origin))
        git(root, "clone", "-q", self.origin.as_uri(), str(self.person))
        (self.person / "_posts").mkdir()
        (self.person / "_posts" / "2026-06-12-daily-trends.md").write_text("---\n---\n\n## 오늘\n")
        git(self.person, "add", "-A")
        git(self.person, "commit", "-q", "-m", "the post")
        git(self.person, "push", "-q", "origin", "HEAD:main")
        git(root, "clone", "-q", "--depth", "1", self.origin.as_uri(), str(self.runner))

    def person_pushes(self, name: str) -> None:
        (self.person / name).write_text(name)
        git(self.person, "add", name)
        git(self.person, "commit", "-q", "-m", f"the person's {name}")
        git(self.person, "push", "-q", "origin", "HEAD:main")

    def person_pushes_during_the_runners_push(self, times: int) -> None:
        """The person's push lands between the runner's fetch and its push, `times` times."""
        hook = self.runner / ".git" / "hooks" / "pre-push"
        hook.write_text(f"""#!/bin/sh
count=$(cat .git/races 2>/dev/null || echo 0)
[ "$count" -ge {times} ] && exit 0
echo $((count + 1)) > .git/races
cd {self.person} && env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE sh -c '
  echo "$0" >> race.md && git add race.md &&
  git -c user.name=p -c user.email=p@example.org commit -q -m "the person, racing" &&
  git push -q origin HEAD:main' "$count"
""")
        hook.chmod(0o755)

    def publish(self) -> None:
        post = self.runner / "_posts" / "2026-06-12-daily-trends.md"
        post.write_text(post.read_text() + "\n### 데일리 트렌드\n\n- a story\n")

    def run_step(self, name: str, tmp_path: Path, what: str = "day") -> tuple[subprocess.CompletedProcess, str]:
        """One of the workflow's steps, run in the runner's checkout with the workflow's env."""
        out = tmp_path / "github_output"
        out.write_text("")
        env = {**git_env(), **workflow()["env"], "TRENDBOT_DB": str(tmp_path / "cache" / "trendbot.db"),
               "PATH": os.pathsep.join([*self.bin, os.environ["PATH"]]),
               "DAY": "2026-06-12", "WHAT": what, "BRANCH": "main", "GITHUB_OUTPUT": str(out)}
        done = subprocess.run(["bash", "-e", "-c", step(name)["run"]], cwd=self.runner, capture_output=True, text=True,
                              env=env, timeout=120)
        return done, out.read_text()

    def run_commit_step(self, tmp_path: Path, what: str = "day") -> tuple[subprocess.CompletedProcess, str]:
        return self.run_step("Commit the post if it changed", tmp_path, what)

    def configure_trendbot(self, home: Path) -> None:
        """The blog's .trendbot/ as the workflow's header says, and `trendbot` on the PATH."""
        (self.runner / ".trendbot").mkdir()
        (self.runner / ".trendbot" / "trendbot.toml").write_text('[blog]\nrepo = ".."\ncommit = false\n')
        self.bin = [str(put_trendbot_where_pipx_does(home).parent)]

    def origin_files(self, rev: str = "main") -> list[str]:
        return git(self.origin, "show", "--format=", "--name-only", rev).splitlines()

    def origin_log(self) -> list[str]:
        return git(self.origin, "log", "--format=%s", "main").splitlines()


def test_commit_step_does_nothing_when_the_post_did_not_change(tmp_path):
    blog = Blog(tmp_path)
    done, outputs = blog.run_commit_step(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "the post did not change; nothing to commit" in done.stdout
    assert outputs == "" and blog.origin_log() == ["the post"]


def test_commit_step_puts_the_post_on_top_of_what_was_pushed_since_the_checkout(tmp_path):
    blog = Blog(tmp_path)
    blog.person_pushes("about.md")
    blog.publish()
    done, outputs = blog.run_commit_step(tmp_path)
    assert done.returncode == 0, done.stderr
    assert outputs == "pushed=true\n"
    assert blog.origin_log() == ["Daily trends for 2026-06-12", "the person's about.md", "the post"]


@pytest.mark.parametrize("races, status, outputs, log", [
    (1, 0, "pushed=true\n", ["Daily trends for 2026-06-12", "the person, racing", "the post"]),
    # twice lost: it gives up, the blog stays as the person pushed it, and no deploy runs
    (2, 1, "", ["the person, racing", "the person, racing", "the post"]),
])
def test_commit_step_tries_once_more_after_losing_a_race(tmp_path, races, status, outputs, log):
    blog = Blog(tmp_path)
    blog.publish()
    blog.person_pushes_during_the_runners_push(times=races)
    done, written = blog.run_commit_step(tmp_path)
    assert done.returncode == status, done.stderr
    assert "the push did not go through (try 1 of 2)" in done.stdout
    assert ("(try 2 of 2)" in done.stdout) == (races == 2)
    assert written == outputs
    assert blog.origin_log() == log


def test_commit_step_stops_on_a_conflict_with_the_persons_edit_of_the_post(tmp_path):
    blog = Blog(tmp_path)
    post = blog.person / "_posts" / "2026-06-12-daily-trends.md"
    post.write_text(post.read_text() + "\n내가 쓴 글\n")
    git(blog.person, "commit", "-q", "-am", "the person's edit")
    git(blog.person, "push", "-q", "origin", "HEAD:main")
    blog.publish()
    done, outputs = blog.run_commit_step(tmp_path)
    assert done.returncode == 1 and outputs == ""
    assert blog.origin_log() == ["the person's edit", "the post"]
    assert not (blog.runner / ".git" / "rebase-merge").exists()  # the rebase was aborted, not left half-done


@pytest.mark.parametrize("what, publish_step, written, message", [
    ("day", "Publish the day's section", ".trendbot/digests/2026-06-12.md", "Daily trends for 2026-06-12"),
    ("week", "Publish the week's roll-up", ".trendbot/digests/week-2026-06-08.md",
     "Weekly trends for the week of 2026-06-12"),
])
def test_a_day_written_to_digests_instead_of_the_post_is_committed_not_lost_with_the_runner(
        tmp_path, what, publish_step, written, message):
    """The workflow's own publish and commit steps, with the real trendbot, on a day with no story:
    trendbot leaves the post alone and writes digests/; the commit step pushes that file."""
    blog = Blog(tmp_path)
    blog.configure_trendbot(tmp_path / "home")
    done, _ = blog.run_step(publish_step, tmp_path, what)
    assert done.returncode == 0, done.stderr
    assert "no story" in done.stderr and f"wrote {written}" in done.stderr
    done, outputs = blog.run_commit_step(tmp_path, what)
    assert done.returncode == 0, done.stderr
    assert outputs == "pushed=true\n"
    assert blog.origin_log() == [message, "the post"]
    assert blog.origin_files() == [written]
    assert git(blog.origin, "show", f"main:{written}").startswith("### ")


def test_commit_step_without_a_digests_folder_commits_the_post_alone(tmp_path):
    blog = Blog(tmp_path)
    blog.publish()
    assert not (blog.runner / workflow()["env"]["TRENDBOT_DIGESTS"]).exists()
    done, outputs = blog.run_commit_step(tmp_path)
    assert done.returncode == 0, done.stderr
    assert outputs == "pushed=true\n" and blog.origin_files() == ["_posts/2026-06-12-daily-trends.md"]
