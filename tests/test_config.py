"""Configuration: found in the documented order, and every mistake named by file and key."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_bad_duration_names_file_key_and_reason(project, run):
    project.add_source("lab", kind="feed", url="https://lab.example.org/feed", every="3x")
    result = run("fetch")
    assert result.exit_code == 2
    assert result.stderr.strip() == 'trendbot: error: sources/lab.toml: every: "3x" is not a duration (use 30m, 2h, 1d)'


@pytest.mark.parametrize(
    "keys, expected",
    [
        ({"kind": "feed", "url": "https://a.example/feed", "colour": "red"}, "sources/lab.toml: colour: unknown key"),
        ({"kind": "feed"}, "sources/lab.toml: url: required key is missing"),
        ({"kind": "rss", "url": "https://a.example/feed"}, 'sources/lab.toml: kind: "rss" is not a known kind'),
        ({"url": "https://a.example/feed"}, "sources/lab.toml: kind: required key is missing"),
        ({"kind": "feed", "url": "ftp://a.example/feed"}, 'sources/lab.toml: url: "ftp://a.example/feed" is not an http(s) URL'),
        ({"kind": "feed", "url": "https://a.example/feed", "enabled": "maybe"}, "sources/lab.toml: enabled:"),
    ],
)
def test_bad_source_files_exit_2_naming_file_and_key(project, run, keys, expected):
    project.add_source("lab", **keys)
    result = run("sources")
    assert result.exit_code == 2
    assert expected in result.stderr


def test_bad_main_config_names_the_section_key(project, run):
    project.write_config(digest={"limit": 0})
    result = run("sources")
    assert result.exit_code == 2
    assert "trendbot.toml: digest.limit: Input should be greater than or equal to 1" in result.stderr


def test_unknown_timezone_and_broken_toml(project, run):
    project.write_config(timezone="Mars/Olympus")
    result = run("items")
    assert result.exit_code == 2 and 'timezone: "Mars/Olympus" is not a known time zone' in result.stderr
    (project.root / "trendbot.toml").write_text("timezone = \n", encoding="utf-8")
    result = run("items")
    assert result.exit_code == 2 and "trendbot.toml: not valid TOML" in result.stderr


def test_duplicate_source_names_are_refused(project, run):
    project.add_source("a", kind="feed", url="https://a.example/feed", name="same")
    project.add_source("b", kind="feed", url="https://b.example/feed", name="same")
    result = run("sources")
    assert result.exit_code == 2
    assert 'sources/b.toml: name: "same" is already the name of sources/a.toml' in result.stderr


def test_config_is_found_by_flag_then_environment_then_cwd(tmp_path: Path, run, monkeypatch):
    for name in ("flag", "env", "cwd"):
        folder = tmp_path / name
        (folder / "sources").mkdir(parents=True)
        (folder / "trendbot.toml").write_text('sources_dir = "sources"\n', encoding="utf-8")
        (folder / "sources" / f"{name}.toml").write_text(f'kind = "feed"\nurl = "https://{name}.example/f"\n')
    monkeypatch.chdir(tmp_path / "cwd")
    assert "cwd " in run("sources").stdout
    monkeypatch.setenv("TRENDBOT_CONFIG", str(tmp_path / "env" / "trendbot.toml"))
    assert "env " in run("sources").stdout
    assert "flag " in run("--config", str(tmp_path / "flag" / "trendbot.toml"), "sources").stdout
    missing = run("--config", str(tmp_path / "nowhere.toml"), "sources")
    assert missing.exit_code == 2 and "nowhere.toml: config file not found" in missing.stderr


def test_db_option_and_relative_paths(project, run, tmp_path):
    project.write_config(db="data/bot.db")
    assert run("items").exit_code == 0
    assert (project.root / "data" / "bot.db").exists()
    assert run("--db", str(tmp_path / "other.db"), "items").exit_code == 0
    assert (tmp_path / "other.db").exists()


def test_without_any_config_defaults_apply(run, tmp_path):
    result = run("sources")
    assert result.exit_code == 0
    assert "no sources configured" in result.stdout


def test_init_writes_defaults_for_every_kind_and_never_overwrites(run, tmp_path):
    first = run("init")
    assert first.exit_code == 0, first.output
    written = sorted(p.name for p in (tmp_path / "sources").glob("*.toml"))
    kinds = {line.split("=")[1].strip().strip('"') for p in (tmp_path / "sources").glob("*.toml")
             for line in p.read_text().splitlines() if line.startswith("kind")}
    assert kinds == {"hf_papers", "geeknews", "x", "feed", "hf_trending", "hackernews", "reddit",
                     "github_trending", "bluesky"}
    assert (tmp_path / "trendbot.toml").exists() and written
    (tmp_path / "trendbot.toml").write_text("# mine\n", encoding="utf-8")
    second = run("init")
    assert "kept    trendbot.toml (already exists)" in second.stdout
    assert (tmp_path / "trendbot.toml").read_text() == "# mine\n"


def test_init_files_load_as_valid_config(run, tmp_path):
    run("init")
    result = run("sources", "--json")
    assert result.exit_code == 0, result.output


def test_repository_sources_are_the_defaults_init_writes():
    """sources/ in the repository is a ready-to-run copy of what `trendbot init` writes."""
    root = Path(__file__).parent.parent
    templates = root / "trendbot" / "templates" / "sources"
    assert sorted(p.name for p in (root / "sources").glob("*.toml")) == sorted(p.name for p in templates.glob("*.toml"))
    for template in templates.glob("*.toml"):
        assert (root / "sources" / template.name).read_text() == template.read_text(), template.name


def test_the_values_init_writes_are_the_defaults_it_says_they_are():
    """The template says "the values below are the defaults": every key it sets must equal what
    trendbot uses without it."""
    import tomllib

    from trendbot.config import Settings

    template = (Path(__file__).parent.parent / "trendbot" / "templates" / "trendbot.toml").read_text(encoding="utf-8")
    written = tomllib.loads(template)
    assert Settings.model_validate(written) == Settings()
    assert {"digest", "http", "summarizer", "blog", "schedule"} <= set(written)
    assert written["schedule"]["week_at"] == "23:45" and written["digest"]["week_limit"] == 10
