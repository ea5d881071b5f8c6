"""Scope filters: which listed resources a run may delete, and why it keeps the others.

The configuration's `filters` map `all`, a service (`ec2`) or a type (`ec2.volumes`) to
`keep` and `select` rules. A rule is a mapping of conditions that must all hold:

    tag: KEY | KEY=GLOB     tag_regex: KEY=REGEX     name: GLOB     name_regex: REGEX
    id: GLOB                id_regex: REGEX          ids: [ID or ARN, ...]
    older_than: 7d          newer_than: 12h          (s, m, h, d or w)

A resource is kept when it carries the protection tag (whatever else matches), when any
keep rule that applies to its type matches it, or when a select rule that applies does
not: select rules narrow, every one must match. A glob or a regular expression must match
the whole value, case-sensitively. A resource's age counts from its creation time, or,
where its listing gives none, from the first time a run of the same account saw it
(`first_seen`, from the event log): nothing is ever written on the resource itself.

Everything here is pure: the engine hands in the resource, the time it was first seen
and the time now.
"""

import dataclasses
import fnmatch
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from costcutter.registry import Resource

ALL = "all"
LISTS = ("keep", "select")
_DURATION = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION_HINT = "write a whole number and a unit: 30m, 12h, 7d, 2w (s, m, h, d, w)"


class RuleError(ValueError):
    """A rule that cannot be used; the message says which part and what is allowed."""


def parse_duration(text) -> timedelta:
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match:
        raise RuleError(f"{text!r} is not a duration; {_DURATION_HINT}")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _glob(pattern: str):
    return lambda value: value is not None and fnmatch.fnmatchcase(value, pattern)


def _regex(pattern: str):
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise RuleError(f"{pattern!r} is not a valid regular expression ({error})") from None
    return lambda value: value is not None and compiled.fullmatch(value) is not None


def _tag(text: str, value_matcher):
    """KEY alone: the key is present, any value; KEY=PATTERN: its value matches."""
    key, has_value, pattern = text.partition("=")
    if not key:
        raise RuleError(f"{text!r} names no tag key; write KEY or KEY=VALUE")
    matches = value_matcher(pattern) if has_value else (lambda value: value is not None)
    return lambda resource, age: matches(resource.tags.get(key))


def _tag_regex(text: str):
    if "=" not in text:
        raise RuleError(f"{text!r} has no '='; write KEY=REGEX")
    return _tag(text, _regex)


def _ids(values):
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise RuleError(f"{values!r} is not a list of ids or ARNs; write [vol-0abc, arn:aws:...]")
    wanted = frozenset(values)
    return lambda resource, age: resource.id in wanted or resource.properties.get("arn") in wanted


def _on(field: str, matcher):
    """A condition on one field of the resource (its name, its id)."""
    def make(pattern):
        match = matcher(pattern)
        return lambda resource, age: match(getattr(resource, field))
    return make


def _older_than(text):
    limit = parse_duration(text)
    return lambda resource, age: age > limit


def _newer_than(text):
    limit = parse_duration(text)
    return lambda resource, age: age < limit


# condition -> (what it takes, the matcher it makes: (resource, age) -> bool)
CONDITIONS = {
    "tag": (str, lambda text: _tag(text, _glob)),
    "tag_regex": (str, _tag_regex),
    "name": (str, _on("name", _glob)),
    "name_regex": (str, _on("name", _regex)),
    "id": (str, _on("id", _glob)),
    "id_regex": (str, _on("id", _regex)),
    "ids": (list, _ids),
    "older_than": (object, _older_than),  # parse_duration says what a duration is
    "newer_than": (object, _newer_than),
}
_AGE_CONDITIONS = frozenset({"older_than", "newer_than"})


@dataclasses.dataclass(frozen=True)
class Rule:
    text: str          # as the user wrote it, for the reason a resource is kept
    matchers: tuple
    uses_age: bool

    def matches(self, resource: Resource, age: timedelta) -> bool:
        return all(match(resource, age) for match in self.matchers)


def matcher(condition: str, value):
    """The test one condition makes, (resource, age) -> bool; raises RuleError for a bad value."""
    kind, make = CONDITIONS[condition]
    if not isinstance(value, kind):
        raise RuleError(f"{value!r} is not {'a list' if kind is list else 'text'}")
    return make(value)


def parse_rule(rule) -> Rule:
    """A rule from its mapping of conditions; raises RuleError naming what is wrong."""
    if not isinstance(rule, Mapping) or not rule:
        raise RuleError(f"a rule is a mapping of one or more conditions ({', '.join(CONDITIONS)}), not {rule!r}")
    matchers = []
    for condition, value in rule.items():
        if condition not in CONDITIONS:
            raise RuleError(f"unknown condition {condition!r}; use {', '.join(CONDITIONS)}")
        try:
            matchers.append(matcher(condition, value))
        except RuleError as error:
            raise RuleError(f"{condition}: {error}") from None
    text = " and ".join(f"{condition} {_shown(value)}" for condition, value in rule.items())
    return Rule(text, tuple(matchers), uses_age=bool(_AGE_CONDITIONS & rule.keys()))


def _shown(value) -> str:
    return ", ".join(value) if isinstance(value, list) else value


def levels_of(service: str, name: str) -> tuple[str, ...]:
    """The keys of `filters` that apply to a type, widest first."""
    return ALL, service, f"{service}.{name}"


@dataclasses.dataclass(frozen=True)
class Scope:
    """The rules that apply to one resource type."""
    protect_tag: str | None
    keep: tuple[Rule, ...] = ()
    select: tuple[Rule, ...] = ()

    @property
    def uses_age(self) -> bool:
        return any(rule.uses_age for rule in self.keep + self.select)

    def keep_reason(self, resource: Resource, first_seen: str | None = None, now: datetime | None = None) -> str | None:
        """Why the resource is kept, or None when it may be deleted. `first_seen`: when the
        event log first shows it (ISO 8601), for its age where the listing gives no creation time."""
        if self.protect_tag and self.protect_tag in resource.tags:
            return f"kept by protection tag {self.protect_tag}"
        age = age_of(resource, first_seen, now) if self.uses_age else timedelta(0)
        for rule in self.keep:
            if rule.matches(resource, age):
                return f"kept by keep rule {rule.text}"
        for rule in self.select:
            if not rule.matches(resource, age):
                return f"not selected by select rule {rule.text}"
        return None


def age_of(resource: Resource, first_seen: str | None, now: datetime | None = None) -> timedelta:
    """Since its creation, or since a run first saw it; a resource never seen before is new."""
    now = now or datetime.now(timezone.utc)
    since = resource.created or first_seen
    return now - _as_utc(since) if since else timedelta(0)


def _as_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def for_type(filters: Mapping | None, protect_tag: str | None, service: str, name: str) -> Scope:
    """The scope of one type: the rules of `all`, of its service and of the type, together."""
    blocks = [(filters or {}).get(level) or {} for level in levels_of(service, name)]
    return Scope(protect_tag,
                 keep=tuple(parse_rule(rule) for block in blocks for rule in block.get("keep") or ()),
                 select=tuple(parse_rule(rule) for block in blocks for rule in block.get("select") or ()))


def merged(*layers: Mapping | None) -> dict:
    """Filters of several layers (a file, the flags) as one: every rule of each is kept,
    so a later layer adds keeps, and its selects narrow further."""
    result: dict = {}
    for layer in layers:
        for level, block in (layer or {}).items():
            target = result.setdefault(level, {})
            for name in LISTS:
                if (block or {}).get(name):
                    target[name] = [*target.get(name, []), *block[name]]
    return result
