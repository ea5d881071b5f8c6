"""The registry: what CostCutter can clean, declared as data.

A resource type is one small module under costcutter/services/<service>/ that declares a
ResourceType: its client, whether it is regional or global, how to list it (as Resource
records), the steps that delete one, how to wait until AWS has finished deleting, which
types must be gone before it, and how the tests seed one. Nothing here talks to AWS or
records events: running a declaration is the engine's work (costcutter/engine.py).
"""

import ast
import collections
import dataclasses
import functools
import graphlib
import importlib
import pkgutil
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import botocore.exceptions

REGIONAL, GLOBAL = "regional", "global"
GLOBAL_REGION = "global"  # the `region` of a global type's events and units


@dataclasses.dataclass(frozen=True)
class Resource:
    """One listed resource: what filters, reports and the steps that delete it need."""
    id: str
    name: str | None = None
    created: str | None = None                     # ISO 8601, when AWS gives one
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    parent: str | None = None                      # what it belongs to: a node group's cluster
    properties: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # instance type, size, state
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)  # the listed item

    def description(self) -> dict:
        """What the `cataloged` event keeps of it, so later runs can filter, price and plan from the log."""
        described = {"name": self.name, "created": self.created, "tags": dict(self.tags) or None,
                     "parent": self.parent, **self.properties}
        return {key: value for key, value in described.items() if value is not None}


@dataclasses.dataclass(frozen=True)
class Step:
    """One call of a teardown. `call(target, resource)` returns an optional detail for the
    event; an error whose code is in `done_codes` means the step's work is done already.
    A step for which `when(resource)` is false is not needed for that resource."""
    name: str
    call: Callable[..., str | None]
    done_codes: frozenset[str] = frozenset()
    when: Callable[[Resource], bool] | None = None

    def needed_for(self, resource: Resource) -> bool:
        return self.when is None or self.when(resource)


@dataclasses.dataclass(frozen=True)
class Protection:
    """Termination or deletion protection: lifted by the `lift` step when the setting named
    `setting` allows it; otherwise the resource is skipped, with the reason. It shows in the
    listing (`is_on`), or only as the deletion's error (`codes`)."""
    setting: str
    lift: Step
    codes: frozenset[str] = frozenset()
    is_on: Callable[[Resource], bool] | None = None


@dataclasses.dataclass(frozen=True)
class Charge:
    """One part of what a resource costs a month: `quantity` units (a number, or a function of
    its cataloged properties; None where they do not tell) at the price that CostCutter's
    price table (costcutter/prices.json) keeps under `price`. The key's {fields} are filled
    from the properties and from what `fields(properties)` adds: "ebs.{volume_type}"."""
    price: str
    quantity: float | Callable[[Mapping], float | None] = 1
    fields: Callable[[Mapping], Mapping] | None = None


def per(prop: str, scale: float = 1, default: float | None = None) -> Callable[[Mapping], float | None]:
    """A quantity read from one property: "size_gib" (scaled: bytes to GB); `default` where it
    is missing (None: then the estimate is unknown)."""
    def quantity(properties):
        value = properties.get(prop, default)
        return None if value is None else float(value) * scale
    quantity.__name__ = f"per_{prop}"
    return quantity


def unless(prop: str, *values) -> Callable[[Mapping], float]:
    """A quantity of one, or none while the property is one of `values` (a stopped instance)."""
    return lambda properties: 0 if properties.get(prop) in values else 1


GB = 1e-9  # bytes, as AWS bills storage: per GB-month


@dataclasses.dataclass(frozen=True)
class Batch:
    """A deletion that takes many ids in one call (TerminateInstances): `call(target, ids)`,
    at most `size` ids a call. The engine uses it for the resources whose teardown is that
    deletion alone; it has the same effect as the type's last step for each of them. Where
    AWS answers success and lists the ids it could not delete (DeleteVpcEndpoints), `call`
    returns those; the engine takes each again alone, so it gets its own outcome."""
    call: Callable[..., Iterable[str] | None]
    size: int


@dataclasses.dataclass(frozen=True)
class Holds:
    """What a resource holds, named by its listed properties: for each type key, the
    property with the id (or list of ids) it holds of that type, or (property, to_id) where
    the property is another form of the id (an ARN). A kept resource keeps what it holds:
    the engine skips those too (a kept instance's volumes, interfaces, groups, subnet)."""
    ids_in: tuple[tuple[str, str | tuple[str, Callable[[str], str]]], ...]

    def __call__(self, resource: Resource) -> list[tuple[str, str]]:
        held = []
        for key, source in self.ids_in:
            prop, to_id = source if isinstance(source, tuple) else (source, None)
            value = resource.properties.get(prop)
            for found in value if isinstance(value, (list, tuple)) else [value] if value else []:
                held.append((key, to_id(found) if to_id else found))
        return list(dict.fromkeys(held))

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.ids_in)


def holding(ids_in: Mapping[str, str | tuple[str, Callable[[str], str]]]) -> Holds:
    """Holds from {type key: property}, as a declaration says it."""
    return Holds(tuple(ids_in.items()))


def name_in_arn(arn: str) -> str:
    """The name at the end of an ARN (an IAM role's, behind its path), which is its id here."""
    return arn.rsplit("/", 1)[-1]


@dataclasses.dataclass(frozen=True)
class ResourceType:
    service: str
    name: str                                        # plural, as in the function names: "instances"
    client: str                                      # the boto3 client of its calls
    list: Callable[..., Iterable[Resource]]          # (target) -> the resources to clean
    steps: tuple[Step, ...]                          # the teardown; the last step is the deletion itself
    seed: Callable[..., list[str]]                   # (session, region, count) -> ids made, for the tests and the demo
    missing_id: str                                  # an id of its form that does not exist
    scope: str = REGIONAL
    depends_on: tuple[str, ...] = ()                 # types that must be gone first: "name" or "service.name"
    gone_codes: frozenset[str] = frozenset()         # error codes meaning "it is already gone"
    retry_codes: frozenset[str] = frozenset()        # conflicts that clear up (DependencyViolation), retried up to wait_timeout
    wait: Callable[..., Iterable[str]] | None = None  # (target, ids) -> those still being deleted: one call for many
    protection: Protection | None = None
    settings: tuple[str, ...] = ()                   # config keys that change how it is cleaned (besides protection's)
    doc: str = ""                                    # the declaring module's docstring: doc=__doc__
    # What one costs a month (costcutter/costs.py); () where no price can be known from its listing.
    cost: tuple[Charge, ...] = ()
    batch: Batch | None = None                       # the deletion of many in one call, where AWS has one
    holds: Holds | None = None                       # what it holds, kept with it when it is kept
    # What it holds that its listing does not name, each (target, resources) -> the resources
    # with one more property (`associated`): one more listing, made only for those a run keeps.
    associate: tuple[Callable[..., list[Resource]], ...] = ()
    # What AWS deletes it along with, when it does ("root volumes go with their instances"):
    # why a real run can find fewer of it than its dry run listed.
    goes_with: str = ""

    @property
    def priced(self) -> bool:
        return bool(self.cost)

    @property
    def key(self) -> str:
        return f"{self.service}.{self.name}"

    @property
    def dependencies(self) -> tuple[str, ...]:
        return tuple(dep if "." in dep else f"{self.service}.{dep}" for dep in self.depends_on)

    @property
    def all_settings(self) -> tuple[str, ...]:
        return ((self.protection.setting,) if self.protection else ()) + self.settings

    @property
    def is_global(self) -> bool:
        return self.scope == GLOBAL

    @property
    def summary(self) -> str:
        """The first line of `doc`: what it is and how it goes."""
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""


# Combinators: the common shapes of listing and deleting, as data.

def _field(item: Mapping, path: str | None):
    """item["A"]["B"] for "A.B"; None where any part is missing. "A[].B" is the list of
    each A's B (those present), None when there are none."""
    value: Any = item
    parts = path.split(".") if path else []
    for at, part in enumerate(parts):
        many = part.endswith("[]")
        part = part.removesuffix("[]")
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
        if many:
            rest = ".".join(parts[at + 1:])
            found = []
            for element in value or ():
                inner = _field(element, rest) if rest else element
                found += inner if "[]" in rest and inner else [inner] if inner is not None else []
            return found or None
    return value


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def tags_of(item: Mapping, key: str = "Tags") -> dict[str, str]:
    """AWS's [{"Key": k, "Value": v}] (or a plain mapping) as a dict."""
    tags = item.get(key) or {}
    if isinstance(tags, Mapping):
        return dict(tags)
    return {tag.get("Key", tag.get("key")): tag.get("Value", tag.get("value", "")) for tag in tags}


def record(item: Mapping, id_key: str, *, name: str | None = None, created: str | None = None,
           tags: str | None = "Tags", parent: str | None = None, properties: Mapping[str, str] = ()) -> Resource:
    """A Resource from a listed item, its fields named by (dotted) keys of the item."""
    name_value = _field(item, name) if name else None
    item_tags = tags_of(item, tags) if tags else {}
    return Resource(
        id=_field(item, id_key), name=name_value if name_value is not None else item_tags.get("Name"),
        created=_iso(_field(item, created)) if created else None, tags=item_tags,
        parent=_field(item, parent) if parent else None,
        properties={prop: _field(item, path) for prop, path in dict(properties).items() if _field(item, path) is not None},
        raw=item)


def associated(prop: str, operation: str, items_key: str, id_key: str, link_path: str, *,
                by: str | None = None, client: str | None = None):
    """An `associate` (target, resources) -> the resources, each also carrying `prop`: the ids
    (`id_key`) of the items of another listing (`operation` of `client`, every page) whose
    `link_path` names the resource, by its id or by its property `by`: what it holds that its
    own description does not name (an instance's Elastic IPs). One more listing for them all."""
    def associate(target, resources):
        linked = collections.defaultdict(list)
        for page in pages(target.client_for(client) if client else target.client, operation):
            for item in _field(page, items_key) or []:
                links = _field(item, link_path)
                for link in links if isinstance(links, list) else [links] if links is not None else []:
                    linked[link].append(_field(item, id_key))
        return [dataclasses.replace(resource, properties={**resource.properties, prop: linked[key]})
                if (key := resource.properties.get(by) if by else resource.id) in linked else resource
                for resource in resources]
    associate.__name__ = f"{prop}_from_{operation}"
    return associate


def with_associated(list_resources, *association, **options):
    """A `list` whose resources also carry what `associated(*association, **options)` adds, in
    the listing itself (where it must be cataloged), only when something was listed."""
    add = associated(*association, **options)

    def list_with_associated(target):
        resources = list(list_resources(target))
        return add(target, resources) if resources else resources
    list_with_associated.__name__ = getattr(list_resources, "__name__", "list")
    return list_with_associated


def pages(client, operation: str, **params):
    """Every page of a list operation, through its paginator when AWS paginates it."""
    if client.can_paginate(operation):
        yield from client.get_paginator(operation).paginate(**params)
    else:
        yield getattr(client, operation)(**params)


def listed(operation: str, items_key: str, id_key: str, *, keep: Callable[[dict], bool] | None = None,
           name: str | None = None, created: str | None = None, tags: str | None = "Tags",
           parent: str | None = None, properties: Mapping[str, str] = (), **params):
    """A `list` from data: call `operation` with `params` (every page), take each item of
    `items_key` (dotted for nested lists) that `keep` accepts, as a Resource."""
    def list_resources(target):
        for page in pages(target.client, operation, **params):
            for item in _field(page, items_key) or []:
                if keep is None or keep(item):
                    yield record(item, id_key, name=name, created=created, tags=tags, parent=parent,
                                 properties=properties)
    list_resources.__name__ = f"list_{operation}"
    return list_resources


def call(operation: str, id_param: str, *, step: str = "delete", done_codes: Iterable[str] = (),
         in_list: bool = False, **params) -> Step:
    """A Step from data: call `operation` with the resource's id as `id_param` (as a
    one-item list, for an operation that takes many ids)."""
    def call_with_id(target, resource):
        getattr(target.client, operation)(**{id_param: [resource.id] if in_list else resource.id}, **params)
    call_with_id.__name__ = operation
    return Step(step, call_with_id, frozenset(done_codes))


def batched(operation: str, id_param: str, size: int, *, failures_key: str | None = None,
            failed_id: str = "ResourceId", **params) -> Batch:
    """A Batch from data: call `operation` with up to `size` ids as the list `id_param`. For
    an operation that answers success and lists what it could not do (`failures_key` items,
    each naming its id as `failed_id`: DeleteVpcEndpoints), the call returns those ids."""
    def call_with_ids(target, ids):
        answer = getattr(target.client, operation)(**{id_param: list(ids)}, **params)
        if failures_key:
            return [item.get(failed_id) for item in answer.get(failures_key) or ()]
    call_with_ids.__name__ = operation
    return Batch(call_with_ids, size)


def deleted_by(operation: str, id_param: str, **params) -> tuple[Step, ...]:
    """The simplest teardown: one call."""
    return (call(operation, id_param, **params),)


def seed_names(count: int, create: Callable[[str], Any], prefix: str = "costcutter-seed-") -> list[str]:
    """The usual seed: `count` new names, unique across seeds (a test may seed twice), each
    made by `create(name)`."""
    names = [f"{prefix}{uuid.uuid4().hex[:8]}" for _ in range(count)]
    for name in names:
        create(name)
    return names


def recoded(step: Step, code: str, meanings: Mapping[str, str]) -> Step:
    """The step, with an error of `code` that a service answers for many things (SageMaker's
    ValidationException for "no such model" and for "wrong state") renamed after what its
    message says: the code of the first fragment of `meanings` the message contains (in any
    case). So gone_codes, done_codes and protections can name the one meaning they are about."""
    def call_recoded(target, resource):
        try:
            return step.call(target, resource)
        except botocore.exceptions.ClientError as error:
            details = error.response.get("Error", {})
            message = str(details.get("Message", "")).lower()
            meaning = next((new for fragment, new in meanings.items() if fragment.lower() in message), None)
            if details.get("Code") != code or meaning is None:
                raise
            raise botocore.exceptions.ClientError({**error.response, "Error": {**details, "Code": meaning}},
                                                  error.operation_name) from error
    call_recoded.__name__ = getattr(step.call, "__name__", step.name)
    return dataclasses.replace(step, call=call_recoded)


def still_listed(operation: str, items_key: str, id_key: str, *, keep: Callable[[dict], bool] | None = None,
                 asking: Callable[[list[str]], dict] | None = None, chunk: int = 100, **params):
    """A `wait` from data: the ids asked about that `operation` still lists (those `keep`
    accepts, where a listed item can be gone in all but name: "terminated"). One call, every
    page, for all ids; or, where `asking(ids)` gives the parameters that ask for just those
    ids (a filter, a list of names), one call per `chunk` of them."""
    def still_there(target, ids):
        asked = list(ids)
        batches = [asked[start:start + chunk] for start in range(0, len(asked), chunk)] if asking else [asked]
        for batch in batches:
            wanted = set(batch)
            for page in pages(target.client, operation, **params, **(asking(batch) if asking else {})):
                for item in _field(page, items_key) or []:
                    if _field(item, id_key) in wanted and (keep is None or keep(item)):
                        yield _field(item, id_key)
    still_there.__name__ = f"still_listed_by_{operation}"
    return still_there


# The registry: every declaration, found by walking costcutter.services.

def discover() -> list[ResourceType]:
    """Every ResourceType declared in a module of a package under costcutter/services."""
    import costcutter.services as services_package

    found = {}
    for module_info in pkgutil.walk_packages(services_package.__path__, services_package.__name__ + "."):
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, ResourceType):
                found[value.key] = value
    return list(found.values())


# A declaration as every type's module writes it: `NAME = ResourceType(`, to a `)` alone on a line.
_DECLARATION = re.compile(r"^\w+ = ResourceType\(.*?^\)$", re.MULTILINE | re.DOTALL)


@functools.cache
def declared() -> dict[str, str]:
    """key -> service of every type declared under costcutter/services, read from the
    declarations' source, not imported: checking the names a configuration gives must not
    import a hundred modules (and, through them, sqlite-utils). The same types as
    resource_types(), which tests/test_startup.py holds it to."""
    found = {}
    for path in sorted((Path(__file__).parent / "services").rglob("*.py")):
        for declaration in _DECLARATION.findall(path.read_text()):
            arguments = {keyword.arg: keyword.value for keyword in ast.parse(declaration).body[0].value.keywords}
            service, name = (ast.literal_eval(arguments[key]) for key in ("service", "name"))
            found[f"{service}.{name}"] = service
    return found


def dependency_graph(types: Iterable[ResourceType]) -> dict[str, set[str]]:
    """key -> the keys it depends on, checked: every dependency is known, none is a cycle,
    and no regional type waits for a global one (global types run once, after the regional
    types they depend on, in every region)."""
    by_key = {t.key: t for t in types}
    graph = {}
    for t in by_key.values():
        unknown = set(t.dependencies) - by_key.keys()
        if unknown:
            raise ValueError(f"{t.key} depends on unknown types: {', '.join(sorted(unknown))}")
        if not t.is_global and any(by_key[dep].is_global for dep in t.dependencies):
            raise ValueError(f"{t.key} is regional but depends on a global type")
        graph[t.key] = set(t.dependencies)
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        raise ValueError(f"resource types depend on each other in a cycle: {' -> '.join(error.args[1])}") from None
    return graph


def dependency_order(types: Iterable[ResourceType]) -> list[ResourceType]:
    """Each type after everything it depends on; among types ready together, alphabetical,
    so the order is the same on every machine."""
    by_key = {t.key: t for t in types}
    sorter = graphlib.TopologicalSorter(dependency_graph(by_key.values()))
    sorter.prepare()
    ordered = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        ordered += [by_key[key] for key in ready]
        sorter.done(*ready)
    return ordered


@functools.cache
def resource_types() -> tuple[ResourceType, ...]:
    """Every registered type, in an order that honours every dependency."""
    return tuple(dependency_order(discover()))


def by_key() -> dict[str, ResourceType]:
    return {t.key: t for t in resource_types()}


def service_names() -> list[str]:
    return sorted({t.service for t in resource_types()})


def type_keys() -> list[str]:
    return [t.key for t in resource_types()]
