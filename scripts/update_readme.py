"""Rewrite README.md's table of covered resource types from the registry.

    python scripts/update_readme.py

tests/test_readme.py fails while the table is out of date, so the README never lists a
type that does not exist or misses one that does.
"""

import re
from pathlib import Path

from costcutter import registry

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- types:start (scripts/update_readme.py) -->", "<!-- types:end -->"


def types_table() -> str:
    rows = ["| service | type | scope | depends on | settings | how it is cleaned |",
            "| --- | --- | --- | --- | --- | --- |"]
    for t in sorted(registry.resource_types(), key=lambda t: t.service):
        depends = ", ".join(f"`{dep}`" for dep in t.dependencies)
        settings = ", ".join(f"`{setting}`" for setting in t.all_settings)
        rows.append(f"| {t.service} | `{t.name}` | {t.scope} | {depends} | {settings} | {t.summary} |")
    return "\n".join(rows)


def updated(text: str) -> str:
    block = f"{START}\n{types_table()}\n{END}"
    return re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)


if __name__ == "__main__":
    README.write_text(updated(README.read_text()))
