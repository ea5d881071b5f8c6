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


def test_a_lazy_module_is_whole_for_every_thread_at_once(tmp_path, monkeypatch):
    """Region processes import the CLI too (multiprocessing's spawn), then reach for the same
    modules from many threads at once: each must see the module whole, even while another
    thread is still importing it. (importlib's LazyLoader, used before, showed the others a
    module without its attributes.)"""
    from concurrent.futures import ThreadPoolExecutor

    from costcutter.lazy import lazy_import

    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(0.3)\nANSWER = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    lazy = lazy_import("slow_to_import")
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda _: lazy.ANSWER, range(8)))
    assert found == [42] * 8
    monkeypatch.delitem(sys.modules, "slow_to_import")
