"""A post that is a symbolic link, or reached through one, is never read, written or committed.

A repository checked out by `actions/checkout` keeps the token in `.git/config`
(`http.https://github.com/.extraheader`); a post that links there, a link to any readable file
outside the repository, and a linked `_posts` folder are each refused: exit 1 with the reason,
the section in digests/, nothing followed, nothing committed. Real git, real symbolic links, the
real CLI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_publish import DAY, commits, fetch, git, make_repo

POST = f"_posts/{DAY}-daily.md"  # the issue's `_posts/2026-12-02-daily.md`, on the day of the recorded feed
TOKEN = "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX2Zha2VUb2tlbkZvclRyZW5kYm90VGVzdHM="
SECRET = "ghs_fakeTokenForTrendbotTests"


def checked_out_blog(project) -> Path:
    """A blog as `actions/checkout` leaves it: the token in .git/config."""
    repo = make_repo(project.root, {"_posts/2026-09-01-hello.md": b"---\nlayout: post\n---\nhello\n"})
    git(repo, "config", "http.https://github.com/.extraheader", TOKEN)
    project.write_config(blog={"repo": "blog", "post": "_posts/{date:%Y-%m-%d}-daily.md", "commit": True})
    return repo


def plant(repo: Path, name: str, target: Path | str) -> Path:
    """A symbolic link committed in the blog, as a checkout brings it."""
    link = repo / name
    link.symlink_to(target)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", "the link")
    return link


def everything_committed(repo: Path) -> str:
    """The text of every file of every commit."""
    out = []
    for commit in git(repo, "rev-list", "--all").split():
        for name in git(repo, "ls-tree", "-r", "--name-only", commit).split("\n"):
            if name:
                out.append(git(repo, "show", f"{commit}:{name}"))
    return "\n".join(out)


def assert_refused(project, result, repo: Path, link: Path, shown: str) -> None:
    assert result.exit_code == 1, result.output
    assert f"{shown} is a symbolic link" in result.stderr
    assert f"left it alone and wrote digests/{DAY}.md" in result.stderr
    assert "Traceback" not in result.output
    assert link.is_symlink()  # not replaced by a regular file
    assert commits(repo) == ["the link", "blog"]
    assert git(repo, "status", "--porcelain") == ""  # nothing staged, nothing changed
    assert TOKEN not in everything_committed(repo) and SECRET not in everything_committed(repo)
    posts = repo / "_posts"
    for path in posts.rglob("*") if not posts.is_symlink() else []:
        if path.is_file() and not path.is_symlink():
            assert TOKEN not in path.read_text(encoding="utf-8")
    digest = (project.root / "digests" / f"{DAY}.md").read_text(encoding="utf-8")
    assert digest.startswith("### 데일리 트렌드") and TOKEN not in digest
    assert project.rows("select * from publications") == []


def test_a_post_linked_to_git_config_is_refused_and_the_token_never_leaves(project, run, httpserver):
    repo = checked_out_blog(project)
    link = plant(repo, POST, "../.git/config")
    fetch(project, run, httpserver)
    config_before = (repo / ".git" / "config").read_bytes()
    result = run("digest", "--date", DAY, "--publish")
    assert_refused(project, result, repo, link, f"blog/{POST}")
    assert "(to ../.git/config)" in result.stderr
    assert (repo / ".git" / "config").read_bytes() == config_before
    assert os.readlink(link) == "../.git/config"


def test_a_post_linked_to_a_file_outside_the_repository_is_refused(project, run, httpserver, tmp_path):
    repo = checked_out_blog(project)
    secret = tmp_path / "elsewhere" / "credentials"
    secret.parent.mkdir()
    secret.write_text(TOKEN + "\n", encoding="utf-8")
    link = plant(repo, POST, secret)  # an absolute link
    fetch(project, run, httpserver)
    result = run("digest", "--date", DAY, "--publish")
    assert_refused(project, result, repo, link, f"blog/{POST}")
    assert secret.read_text(encoding="utf-8") == TOKEN + "\n"


def test_a_dangling_link_is_not_created_through(project, run, httpserver, tmp_path):
    """A link to a file that does not exist yet: creating the post must not create its target."""
    repo = checked_out_blog(project)
    target = tmp_path / "outside.md"
    link = plant(repo, POST, target)
    fetch(project, run, httpserver)
    result = run("digest", "--date", DAY, "--publish")
    assert_refused(project, result, repo, link, f"blog/{POST}")
    assert not target.exists()


def test_a_linked_posts_folder_is_refused(project, run, httpserver, tmp_path):
    repo = checked_out_blog(project)
    outside = tmp_path / "outside-posts"
    outside.mkdir()
    (outside / f"{DAY}-daily.md").write_text("---\nlayout: post\n---\n" + TOKEN + "\n", encoding="utf-8")
    git(repo, "rm", "-q", "-r", "_posts")
    git(repo, "commit", "-q", "-m", "blog")
    plant(repo, "_posts", outside)
    fetch(project, run, httpserver)
    before = sorted(p.name for p in outside.iterdir())
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1, result.output
    assert "blog/_posts is a symbolic link" in result.stderr
    assert f"wrote digests/{DAY}.md" in result.stderr
    assert sorted(p.name for p in outside.iterdir()) == before
    assert (outside / f"{DAY}-daily.md").read_text(encoding="utf-8").endswith(TOKEN + "\n")
    assert commits(repo) == ["the link", "blog", "blog"]
    assert git(repo, "status", "--porcelain") == ""
    assert TOKEN not in everything_committed(repo)


def test_a_linked_posts_folder_is_refused_when_the_post_is_new(project, run, httpserver, tmp_path):
    """No post yet, `_posts` a link to a folder outside: nothing is created there."""
    repo = checked_out_blog(project)
    outside = tmp_path / "outside-posts"
    outside.mkdir()
    git(repo, "rm", "-q", "-r", "_posts")
    git(repo, "commit", "-q", "-m", "blog")
    plant(repo, "_posts", outside)
    fetch(project, run, httpserver)
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1, result.output
    assert "blog/_posts is a symbolic link" in result.stderr
    assert list(outside.iterdir()) == []


def test_a_dry_run_of_a_linked_post_reads_nothing_through_it(project, run, httpserver):
    repo = checked_out_blog(project)
    plant(repo, POST, "../.git/config")
    fetch(project, run, httpserver)
    result = run("digest", "--date", DAY, "--publish", "--dry-run")
    assert result.exit_code == 1, result.output
    assert TOKEN not in result.output and "extraheader" not in result.output
    assert f"blog/{POST} is a symbolic link" in result.stderr and "would write" in result.stderr
    assert not (project.root / "digests").exists()


def test_a_link_swapped_in_after_the_check_is_not_followed(tmp_path):
    """The check and the write are apart; the write itself follows no link (O_NOFOLLOW, the
    temporary file made and renamed inside the folder's descriptor)."""
    from trendbot.errors import PublishError
    from trendbot.files import read_text, write_atomic

    repo = tmp_path / "blog"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "config").write_text(TOKEN, encoding="utf-8")
    (repo / "_posts").mkdir()
    post = repo / "_posts" / "a.md"
    post.symlink_to("../.git/config")
    with pytest.raises(PublishError, match="a symbolic link"):
        read_text(post, repo)
    with pytest.raises(PublishError, match="a symbolic link"):
        write_atomic(post, "mine\n", repo)
    assert post.is_symlink() and (repo / ".git" / "config").read_text(encoding="utf-8") == TOKEN
    post.unlink()
    (repo / "real").mkdir()
    (repo / "real" / "a.md").write_text("x\n", encoding="utf-8")
    os.rename(repo / "_posts", repo / "old")
    (repo / "_posts").symlink_to("real")
    with pytest.raises(PublishError, match="_posts: a symbolic link"):
        write_atomic(post, "mine\n", repo)
    assert (repo / "real" / "a.md").read_text(encoding="utf-8") == "x\n"
    assert sorted(p.name for p in (repo / "real").iterdir()) == ["a.md"]
