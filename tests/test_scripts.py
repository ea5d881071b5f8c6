"""Every script under scripts/ is run by hand, so nothing else would notice one that no
longer starts: each must at least show its help."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(path for path in (ROOT / "scripts").rglob("*.py") if not path.name.startswith("_")
                 and "def main" in path.read_text())


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_script_starts_and_shows_its_help(script):
    finished = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, cwd=ROOT,
                              timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert "usage:" in finished.stdout.lower()
