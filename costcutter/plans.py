"""A dry run is a plan: the resources it would delete, each recorded with its properties.

`costcutter apply PLAN_RUN_ID` carries a plan out: a real run restricted to the plan's
resources, read from the log (the plan's would_delete events), so a resume of the apply
reads the same restriction. Whether a plan may be applied is decided in lifecycle.applied.
"""

import collections
import dataclasses
import functools
import json
from datetime import datetime, timezone

from costcutter.store import EventStore


@dataclasses.dataclass(frozen=True)
class Plan:
    run_id: str
    created_at: str
    resources: tuple[dict, ...]   # store.planned rows: region, service, resource_type, resource_id, properties

    @functools.cached_property
    def units(self) -> frozenset[tuple[str, str]]:
        """(region, "service.type") of every unit the plan would delete something in."""
        return frozenset((row["region"], f"{row['service']}.{row['resource_type']}") for row in self.resources)

    def ids_in(self, region: str) -> dict[tuple[str, str], frozenset[str]]:
        """(service, type) -> the ids the plan would delete in the region."""
        ids = collections.defaultdict(set)
        for row in self.resources:
            if row["region"] == region:
                ids[row["service"], row["resource_type"]].add(row["resource_id"])
        return {key: frozenset(values) for key, values in ids.items()}

    @property
    def regions(self) -> list[str]:
        return sorted({row["region"] for row in self.resources})

    def age_hours(self) -> float:
        started = datetime.fromisoformat(self.created_at)
        return (datetime.now(timezone.utc) - started).total_seconds() / 3600


def read(store: EventStore, run_id: str) -> Plan:
    """The plan a dry run recorded (whether it may be applied is not checked here)."""
    return Plan(run_id, store.run(run_id)["created_at"], tuple(store.planned(run_id)))


def rows(store: EventStore, run_id: str) -> list[dict]:
    """The plan as a reviewer reads it: one row per resource, with its name, creation time,
    tags and the rest of what it was cataloged with."""
    listed = []
    for row in store.planned(run_id):
        described = json.loads(row["properties"]) if row["properties"] else {}
        listed.append({"region": row["region"], "service": row["service"], "resource_type": row["resource_type"],
                       "resource_id": row["resource_id"], "name": described.pop("name", None),
                       "created": described.pop("created", None), "tags": described.pop("tags", None),
                       "properties": described or None})
    return listed
