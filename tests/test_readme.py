"""README.md says what is true: its table of covered types is the registry's."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "update_readme.py"


def test_the_table_of_covered_types_is_current():
    spec = importlib.util.spec_from_file_location("update_readme", SCRIPT)
    update_readme = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(update_readme)
    text = update_readme.README.read_text()
    assert update_readme.START in text
    assert update_readme.updated(text) == text, "run: python scripts/update_readme.py"
