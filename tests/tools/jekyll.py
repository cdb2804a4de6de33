"""What GitHub Pages does to a post, with the real libraries: Jekyll strips the front matter,
renders Liquid, then kramdown with the GFM parser and GitHub Pages' kramdown options.

One Ruby process serves many renders (JSON lines on stdin/stdout), so a hypothesis property can
render hundreds of posts quickly. `missing()` says why it cannot run; `require_or_skip` skips a
test with that reason, or fails it when $CI is set (CI must run it: `.ci/run` installs Ruby's
kramdown, its GFM parser and Liquid from Debian).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

# GitHub Pages' kramdown settings (github-pages gem defaults; Jekyll's math_engine default).
RUBY = r'''
require "json"
require "kramdown"
require "kramdown-parser-gfm"
require "liquid"
OPTIONS = {
  input: "GFM", hard_wrap: false, math_engine: "mathjax", auto_ids: true, entity_output: :as_char,
  toc_levels: (1..6).to_a, smart_quotes: %w[lsquo rsquo ldquo rdquo], footnote_nr: 1,
  show_warnings: false, syntax_highlighter: nil,
}
# If Liquid ever evaluated trendbot's text, these values would show up in the HTML.
ASSIGNS = {"site" => {"title" => "LIQUID-RAN-site.title", "x" => "LIQUID-RAN-site.x"},
           "page" => {"title" => "LIQUID-RAN-page.title", "x" => "LIQUID-RAN-page.x"}}
STDOUT.sync = true
STDIN.each_line do |line|
  request = JSON.parse(line)
  begin
    text = request["text"]
    text = Liquid::Template.parse(text, error_mode: :warn).render(ASSIGNS) if request["liquid"]
    html = Kramdown::Document.new(text, OPTIONS).to_html
    puts JSON.generate({"html" => html})
  rescue StandardError => e
    puts JSON.generate({"error" => "#{e.class}: #{e.message}"})
  end
end
'''

# Jekyll's own front matter pattern (Jekyll::Document::YAML_FRONT_MATTER_REGEXP).
FRONT_MATTER = re.compile(r"\A(---\s*\n.*?\n?)^((---|\.\.\.)\s*$\n?)", re.S | re.M)


def missing() -> str | None:
    """Why real kramdown cannot run here, or None."""
    if not shutil.which("ruby"):
        return "ruby is not installed (apt-get install ruby-kramdown ruby-kramdown-parser-gfm ruby-liquid)"
    probe = subprocess.run(["ruby", "-e", 'require "kramdown"; require "kramdown-parser-gfm"; require "liquid"'],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return ("kramdown, its GFM parser or Liquid is missing for Ruby "
                "(apt-get install ruby-kramdown ruby-kramdown-parser-gfm ruby-liquid): "
                + probe.stderr.strip().splitlines()[-1])
    return None


def require_or_skip(reason: str | None) -> None:
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}")
    pytest.skip(reason)


def split_front_matter(post: str) -> tuple[str, str]:
    match = FRONT_MATTER.match(post)
    return (match.group(0), post[match.end():]) if match else ("", post)


class Jekyll:
    """A running Ruby that renders posts the way GitHub Pages' Jekyll does."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(["ruby", "-e", RUBY], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, encoding="utf-8")

    def kramdown(self, markdown: str, liquid: bool = False) -> str:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"text": markdown, "liquid": liquid}) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer["html"]

    def post(self, post: str) -> str:
        """The HTML body of a post: front matter off, Liquid, then kramdown."""
        front_matter, body = split_front_matter(post)
        return self.kramdown(body, liquid=bool(front_matter))

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=10)
