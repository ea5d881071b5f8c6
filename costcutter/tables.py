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
