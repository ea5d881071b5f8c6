"""Plain-text tables for the terminal, drawn by tabulate."""

from costcutter.lazy import lazy_import

# Imported at the first table (tabulate brings wcwidth): a run prints its tables at the end,
# and its start-up, before the first call to AWS, has no time to spare.
tabulate = lazy_import("tabulate")


def format_table(rows: list[dict], columns: list[str], headers: dict | None = None) -> str:
    """rows as a table of `columns`, titled by `headers` where given (else the column's name).

    Cells are shown as they are: numparse off, so an account id such as 012345678901 keeps
    its leading zero and ids that look like numbers are not reformatted."""
    headers = headers or {}
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    return tabulate.tabulate(cells, headers=[headers.get(column, column) for column in columns], tablefmt="simple",
                    disable_numparse=True)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def plural(count: int, noun: str) -> str:
    """'1 instance', '2 instances', '3 boxes', '2 policies'."""
    if count == 1:
        return f"{count} {noun}"
    if noun.endswith(("s", "x", "ch", "sh")):
        return f"{count} {noun}es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return f"{count} {noun[:-1]}ies"
    return f"{count} {noun}s"
