"""What became of each resource of a run, read from the event log (the `resource_states`
view): the list every run, apply and report ends with (each failed and each kept resource,
and why), and the resources of each outcome for JSON, CSV and `--list`.

A short list shows each resource; a long one is grouped by reason (outcome, type, AWS error
code), with the first few ids and a count, and the full list is `report RUN --full`.
"""

import itertools

from costcutter import events
from costcutter.store import EventStore
from costcutter.tables import format_table

# What a user must look at: the resources that failed, and those a rule or a protection kept.
NEEDS_A_LOOK = (events.FAILED, events.SKIPPED)
# Every outcome a resource can end a run in, as report --json names them (its "totals").
ALL_OUTCOMES = (*events.OUTCOMES, "pending", events.CATALOGED)
# More failed (or kept) resources than this are grouped by reason rather than listed one by one.
LISTED_ONE_BY_ONE = 20
FIRST_IDS = 3

# outcome -> (title, its columns): a failure has AWS's error code and message; a kept
# resource, the rule or protection that kept it (in `message`).
_SECTIONS = {events.FAILED: ("Failed", ("error_code", "message")), events.SKIPPED: ("Kept", ("message",))}
_HEADERS = {"resource_type": "type", "resource_id": "id", "error_code": "error"}
_WHERE = ("region", "service", "resource_type", "resource_id", "name")


def by_outcome(store: EventStore, run_id: str) -> dict[str, list[dict]]:
    """outcome -> its resources (region, service, type, id, name, error code, message), every
    outcome present even when empty, so a machine reading it finds the same keys each time."""
    grouped: dict[str, list[dict]] = {outcome: [] for outcome in ALL_OUTCOMES}
    for row in store.resources(run_id):
        grouped[row["outcome"]].append({key: row[key] for key in (
            "region", "service", "resource_type", "resource_id", "name", "error_code", "message")})
    return grouped


def needs_a_look(store: EventStore, run_id: str, full: bool = False) -> str:
    """Every failed and every kept resource of the run, as text; "" when there is none.
    Unless `full`, a list longer than LISTED_ONE_BY_ONE is grouped by reason."""
    rows = store.resources(run_id, NEEDS_A_LOOK)
    sections = []
    for outcome in NEEDS_A_LOOK:
        chosen = [row for row in rows if row["outcome"] == outcome]
        if chosen:
            sections.append(_section(run_id, outcome, chosen, full))
    return "\n\n".join(sections)


def resource_list(store: EventStore, run_id: str) -> str:
    """Every resource of the run, one line each: where, id, name and outcome (`--list`)."""
    rows = store.resources(run_id)
    if not rows:
        return "No resources found."
    return format_table(rows, ["region", "service", "resource_type", "resource_id", "name", "outcome"], _HEADERS)


def _section(run_id: str, outcome: str, rows: list[dict], full: bool) -> str:
    title, why = _SECTIONS[outcome]
    headers = {**_HEADERS, "message": "message" if outcome == events.FAILED else "why"}
    count = plural(len(rows), "resource")
    if full or len(rows) <= LISTED_ONE_BY_ONE:
        return f"{title}: {count}:\n" + format_table(rows, [*_WHERE, *why], headers)
    groups = _grouped(rows)
    return (f"{title}: {count}, in {plural(len(groups), 'group')} by reason (each one: costcutter report {run_id} "
            f"--full):\n" + format_table(groups, ["service", "resource_type", *why[:-1], "count", "regions", "ids",
                                                   "message"], headers))


def _grouped(rows: list[dict]) -> list[dict]:
    """Resources of one outcome grouped by type and AWS error code (or, without a code, the
    reason given), the largest group first. An AWS message often names the resource, so it
    is not part of the key: a group shows its first one, marked "e.g." when others differ."""
    def reason(row):
        return row["service"], row["resource_type"], row["error_code"] or "", "" if row["error_code"] else row["message"]

    groups = []
    for (service, rtype, code, _), members in itertools.groupby(sorted(rows, key=reason), key=reason):
        members = list(members)
        ids = [member["resource_id"] for member in members]
        more = f" and {len(ids) - FIRST_IDS} more" if len(ids) > FIRST_IDS else ""
        first = members[0]["message"] or ""
        groups.append({"service": service, "resource_type": rtype, "error_code": code, "count": len(members),
                       "regions": ", ".join(sorted({member["region"] for member in members})),
                       "ids": ", ".join(ids[:FIRST_IDS]) + more,
                       "message": first if len({member["message"] for member in members}) == 1 else f"e.g. {first}"})
    return sorted(groups, key=lambda group: -group["count"])


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
