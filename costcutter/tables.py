"""Plain-text tables for the terminal."""


def format_table(rows: list[dict], columns: list[str], headers: dict | None = None) -> str:
    headers = headers or {}
    titles = [headers.get(column, column) for column in columns]
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(text) for text in column) for column in zip(titles, *cells)]
    lines = [_line(titles, widths), _line(["-" * w for w in widths], widths)]
    lines += [_line(row, widths) for row in cells]
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _line(values, widths) -> str:
    return "  ".join(value.ljust(width) for value, width in zip(values, widths)).rstrip()


def plural(count: int, noun: str) -> str:
    """'1 instance', '2 instances', '3 boxes', '2 policies'."""
    if count == 1:
        return f"{count} {noun}"
    if noun.endswith(("s", "x", "ch", "sh")):
        return f"{count} {noun}es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return f"{count} {noun[:-1]}ies"
    return f"{count} {noun}s"
