"""Headless Chromium (Debian `chromium`) driven from the command line, no extra Python packages:
`--dump-dom` after a virtual time budget gives the DOM once the page's scripts have run, and
`--screenshot` saves what a reader would see. MathJax 3 comes from the npm registry into
tests/.cache (`npm install --prefix tests/.cache mathjax@3`, done by `.ci/run`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

MATHJAX = Path(__file__).resolve().parents[1] / ".cache" / "node_modules" / "mathjax"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing() -> str | None:
    if not chromium():
        return "chromium is not installed (apt-get install chromium)"
    if not (MATHJAX / "es5" / "tex-chtml.js").is_file():
        return f"MathJax 3 is not in {MATHJAX} (npm install --prefix tests/.cache mathjax@3)"
    return None


def run_chromium(profile: Path, *args: str, timeout: int = 120) -> str:
    command = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def dump_dom(url: str, profile: Path, budget_ms: int = 20000) -> str:
    """The page's DOM after its scripts ran for up to `budget_ms` of virtual time."""
    return run_chromium(profile, f"--virtual-time-budget={budget_ms}", "--dump-dom", url)


def screenshot(url: str, path: Path, profile: Path, size: str = "1000,1600", budget_ms: int = 20000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    run_chromium(profile, f"--virtual-time-budget={budget_ms}", f"--window-size={size}",
                 f"--screenshot={path}", url)
    return path
