"""`costcutter --help` starts without loading what only the commands need."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("boto3", "botocore", "moto", "sqlite_utils", "costcutter.registry", "costcutter.services", "tqdm")


def test_help_imports_neither_boto3_nor_the_registry():
    finished = subprocess.run([sys.executable, "-X", "importtime", "-m", "costcutter", "--help"],
                              capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert finished.returncode == 0 and "Usage: costcutter" in finished.stdout
    imported = {line.rsplit("|", 1)[1].strip() for line in finished.stderr.splitlines() if "|" in line}
    assert "costcutter.cli" in imported
    assert not {name for name in imported if name.split(".")[0] in HEAVY or name.startswith(HEAVY)}
