"""The configuration: built-in defaults < config file < COSTCUTTER_* variables < flags.

Every layer is validated against schema/config.yaml, and an error names the key, where
it came from, the bad value and what is allowed, in one line.
"""

import dataclasses
import difflib
import functools
import os
import re
from pathlib import Path

import cerberus
import yaml

from costcutter import aws, paths
from costcutter import registry, scope

ENV_PREFIX = "COSTCUTTER_"
TYPE_SETTINGS = ("remove_deletion_protection", "rds_final_snapshot", "secrets_recovery_window_days",
                 "kms_pending_window_days", "protect_tag", "filters")
ADDED_UP = ("filters",)  # keys whose layers add up (each layer's rules are kept), rather than override
DEFAULTS_SOURCE = "built-in defaults"
RENAMED = {"threads_per_subresource": "threads_per_resource_type"}  # old name -> new; the old still works
ACCOUNT_ID = re.compile(r"[0-9]{12}")
_MISSING = object()
SELECTION_HINT = "names like ec2, s3 or a type like ec2.instances (see `costcutter services`)"


class ConfigError(Exception):
    """A configuration problem, worded for the person who has to fix it."""


@dataclasses.dataclass(frozen=True)
class Settings:
    dry_run: bool
    regions: str | list[str]
    services: str | list[str]
    excluded_services: list[str]
    max_processes: int
    threads_per_resource_type: int
    resource_types_at_once: int
    wait_timeout: int
    remove_deletion_protection: bool
    rds_final_snapshot: bool
    secrets_recovery_window_days: int
    kms_pending_window_days: int
    max_plan_age_hours: int
    aws_profile: str | None
    database: str | None
    log_dir: str | None
    log_level: str
    accounts: dict  # allow, deny, blocked_alias_terms: see costcutter/guards.py
    protect_tag: str | None
    filters: dict   # keep and select rules: see costcutter/scope.py
    excluded_regions: list[str] = dataclasses.field(default_factory=list)
    assume_role_arn: str | None = None
    external_id: str | None = None
    role_session_name: str | None = None
    status_interval: int = 5
    # Where each key's value came from, for errors found after validation; not part of a run's configuration.
    sources: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)
    # What was ignored, worded for the user (a misspelt COSTCUTTER_* variable); not part of it either.
    warnings: tuple[str, ...] = dataclasses.field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict:
        return {key: value for key, value in dataclasses.asdict(self).items() if key not in ("sources", "warnings")}

    def problem(self, key: str, message: str) -> "ConfigError":
        return ConfigError(_key_problem(key, self.sources.get(key, "configuration"), message))

    def type_settings(self) -> dict:
        """The settings resource types read while cleaning (see `costcutter services`)."""
        return {key: getattr(self, key) for key in TYPE_SETTINGS}

    def chosen_types(self) -> list[registry.ResourceType]:
        """The resource types to sweep: chosen by service or by "service.type", less those excluded."""
        return [t for t in registry.resource_types() if self._chooses(t.key, t.service)]

    def chosen_keys(self) -> list[str]:
        """The keys of the chosen types, found without importing them (registry.declared)."""
        return [key for key, service in registry.declared().items() if self._chooses(key, service)]

    def _chooses(self, key: str, service: str) -> bool:
        def named(names):
            return service in names or key in names
        return (self.services == "all" or named(self.services)) and not named(self.excluded_services)

    def chosen_services(self) -> list[str]:
        return list(dict.fromkeys(t.service for t in self.chosen_types()))

    def chosen_regions(self, enabled: list[str] | None = None) -> list[str]:
        """The regions to sweep, less those excluded; `all` is the enabled regions, which the caller asks AWS for."""
        regions = enabled if self.regions == "all" else self.regions
        return [region for region in regions if region not in self.excluded_regions]

    @property
    def identity(self) -> aws.Identity:
        """Who the sweep acts as: a profile, and maybe a role assumed from it (no secret: names only)."""
        return aws.Identity(self.aws_profile, self.assume_role_arn, self.external_id, self.role_session_name)

    @property
    def database_path(self) -> Path:
        return Path(self.database).expanduser() if self.database else paths.default_database()

    @property
    def log_path(self) -> Path:
        return Path(self.log_dir).expanduser() if self.log_dir else paths.default_log_dir()


@functools.cache
def _schema() -> dict:
    return yaml.safe_load(paths.shipped_file("schema/config.yaml").read_text())


class _Validator(cerberus.Validator):
    # bool is an int in Python: without this, `max_processes: true` would be taken for 1.
    types_mapping = {**cerberus.Validator.types_mapping,
                     "integer": cerberus.TypeDefinition("integer", (int,), (bool,))}

    def _normalize_coerce_name_list(self, value):
        """Text is a comma-separated list, as in COSTCUTTER_REGIONS and --region, except `all`
        alone; a name given twice counts once. Blank text stays blank, to be refused: an empty
        shell variable must never widen a sweep to every region."""
        if isinstance(value, str):
            names = _unique([name.strip() for name in value.split(",") if name.strip()])
            return "" if not names else "all" if names == ["all"] else names
        return _unique(value) if isinstance(value, list) else value

    def _check_with_regions(self, field, value):
        self._check_all_or_list(field, value, aws.known_regions(), "a known AWS region", "names like us-east-1, eu-west-1")

    def _check_with_region_names(self, field, value):
        self._check_all_or_list(field, value, aws.known_regions(), "a known AWS region", "names like us-east-1, eu-west-1",
                                allow_all=False)

    def _check_with_services(self, field, value):
        self._check_all_or_list(field, value, _selectable(), "a service or type CostCutter can clean", SELECTION_HINT)

    def _check_with_service_names(self, field, value):
        self._check_all_or_list(field, value, _selectable(), "a service or type CostCutter can clean", SELECTION_HINT,
                                allow_all=False)

    def _normalize_coerce_account_ids(self, value):
        """YAML reads an unquoted account id as a number: one of 12 digits is the id it was
        written as; any other number lost a leading 0 (or was read as octal), and is left for
        the check to refuse."""
        if isinstance(value, list):
            return [str(item) if isinstance(item, int) and not isinstance(item, bool) and len(str(item)) == 12
                    else item for item in value]
        return value

    def _check_with_account_ids(self, field, value):
        if value == [] and field == "allow":
            self._error(field, "is empty, which would refuse every account; list the accounts to allow, or "
                               "leave it null for any account")
            return
        for item in value or []:
            if not (isinstance(item, str) and ACCOUNT_ID.fullmatch(item)):
                self._error(field, f"'{item}' is not an AWS account id (12 digits); quote each id, as in "
                                   "['012345678901'] (YAML reads a number starting with 0 as another number)")
                return

    def _check_with_alias_terms(self, field, value):
        for item in value:
            if not (isinstance(item, str) and item.strip()):
                self._error(field, f"'{item}' is not a term to look for in account aliases; use words like prod, "
                                   "or [] to turn the check off")
                return
    def _check_with_role_arn(self, field, value):
        if value is not None and not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", value):
            self._error(field, f"{value!r} is not the ARN of an IAM role; use one like arn:aws:iam::123456789012:role/NAME")

    def _check_with_role_session_name(self, field, value):
        if value is not None and not re.fullmatch(r"[\w+=,.@-]{2,64}", value):
            self._error(field, f"{value!r} is not a role session name; use 2 to 64 letters, digits or +=,.@-")
    def _check_with_filter_level(self, field, value):
        if value != scope.ALL and value not in _selectable():
            self._error(field, f"{value!r} is not 'all', a service or a type CostCutter can clean; "
                               f"use 'all' or {SELECTION_HINT}")

    def _check_with_filter_rule(self, field, value):
        try:
            scope.parse_rule(value)
        except scope.RuleError as error:
            self._error(field, str(error))

    def _check_with_recovery_window(self, field, value):
        if value != 0 and not 7 <= value <= 30:
            self._error(field, f"must be 0 (no recovery) or 7 to 30 days, got {value!r}")

    def _check_all_or_list(self, field, value, known, what, examples, allow_all=True):
        allowed = "'all' or " if allow_all else ""
        allowed += examples
        # An empty list is only ever meant in a file (`excluded_services: []`); blank text is a mistake.
        if value == "" or (value == [] and allow_all):
            self._error(field, f"is empty; use {allowed}")
            return
        if allow_all and value == "all":
            return
        for item in [value] if isinstance(value, str) else value:
            if not isinstance(item, str) or item not in known:
                self._error(field, f"{item!r} is not {what}; use {allowed}")
                return


def _selectable() -> set[str]:
    return set(registry.declared()) | set(registry.declared().values())


def _unique(items: list) -> list:
    """The items in their order, each once (YAML may hand over unhashable ones)."""
    unique = []
    for item in items:
        if item not in unique:
            unique.append(item)
    return unique


def load(config_file: str | os.PathLike | None = None, flags: dict | None = None,
         environ: dict | None = None) -> Settings:
    """Resolve the configuration from every layer, validated; raises ConfigError."""
    environ = os.environ if environ is None else environ
    layers = [(DEFAULTS_SOURCE, _read_yaml(paths.shipped_file("config.yaml")))]
    file_path = _find_config_file(config_file)
    if file_path is not None:
        layers.append((str(file_path), _renamed(_read_yaml(file_path))))
    from_environment, warnings = _from_environment(environ)
    layers.append(("environment", from_environment))
    layers.append(("command line", {k: v for k, v in (flags or {}).items() if v is not None}))

    merged, source = {}, {}
    for name, layer in layers:
        for key, value in layer.items():
            where = f"{ENV_PREFIX}{key.upper()}" if name == "environment" else name
            if key in ADDED_UP:
                _validate_alone(key, value, where)  # so an error names the layer it is in
                value = scope.merged(merged.get(key), value)
            merged[key] = value
            source[key] = where
    return dataclasses.replace(validate(merged, source), warnings=tuple(warnings))


def _validate_alone(key: str, value, where: str) -> None:
    validator = _Validator({key: _schema()[key]})
    if not validator.validate({key: value}):
        raise ConfigError(_first_error(validator, {key: value}, {key: where}))


def restore(stored: dict) -> Settings:
    """The settings a run was started with, as recorded in the log; keys added since that
    run take their built-in defaults."""
    return validate({**_read_yaml(paths.shipped_file("config.yaml")), **_renamed(stored)})


def _renamed(values: dict) -> dict:
    """Keys under their current names (a file, a variable or a run of an earlier version may use old ones)."""
    return {RENAMED.get(key, key): value for key, value in values.items()}


def validate(values: dict, source: dict | None = None) -> Settings:
    source = source or {}
    validator = _Validator(_schema())
    if not validator.validate(values):
        raise ConfigError(_first_error(validator, values, source))
    settings = Settings(**validator.document, sources=source)
    if not settings.chosen_keys():
        raise settings.problem("excluded_services", (
            f"{settings.excluded_services!r} excludes every service chosen by 'services' ({settings.services!r}, "
            f"from {source.get('services', 'configuration')}), so there is nothing to sweep; exclude fewer services, "
            "or choose others"))
    if settings.regions != "all" and not settings.chosen_regions():
        raise settings.problem("excluded_regions", (
            f"{settings.excluded_regions!r} excludes every region chosen by 'regions' ({settings.regions!r}, "
            f"from {source.get('regions', 'configuration')}), so there is nothing to sweep; exclude fewer regions, "
            "or choose others"))
    return settings


def _first_error(validator, values: dict, source: dict) -> str:
    key, messages = sorted(validator.errors.items())[0]
    message, path, value = messages[0], [key], values.get(key, _MISSING)
    while isinstance(message, dict):  # errors inside a mapping or a list come nested by key or index
        part, messages = next(iter(message.items()))
        message, value = messages[0], _item(value, part)
        path.append(part)
    where = source.get(key, "configuration")
    if message == "unknown field":
        if len(path) == 1:
            return f"unknown config key {key!r} (from {where}); allowed keys: {', '.join(_schema())}"
        allowed = ", ".join(_rules_at(path[:-1])["schema"])
        return _key_problem(_dotted(path[:-1]), where, f"unknown key {path[-1]!r}; allowed: {allowed}")
    if message == "required field":
        message = "is missing"
    elif message.startswith("unallowed value"):  # cerberus names the value, not what is allowed
        message = f"must be one of {', '.join(_rules_at(path)['allowed'])}"
    # A nested rule's own check names what is wrong in it; the whole rule would only repeat it.
    shown = value is not _MISSING and (len(path) == 1 or not isinstance(value, dict)) and repr(value) not in message
    if shown and not message.startswith(("'", "is empty")):
        message = f"{message}, got {value!r}"
    return _key_problem(_dotted(path), where, message)


def _item(value, part):
    """value[part], or _MISSING where it has no such item."""
    try:
        return value[part]
    except (KeyError, IndexError, TypeError):
        return _MISSING


def _rules_at(path: list) -> dict:
    """The schema's rules for the value at a path of keys and list indexes."""
    rules = _schema()[path[0]]
    for part in path[1:]:
        rules = rules["schema"] if isinstance(part, int) else rules.get("valuesrules") or rules["schema"][part]
    return rules


def _dotted(path: list) -> str:
    """filters.ec2.keep[0]"""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")


def _key_problem(key: str, where: str, message: str) -> str:
    return f"config key {key!r} (from {where}): {message}"


def _find_config_file(explicit) -> Path | None:
    if explicit is not None:
        if not str(explicit).strip():  # an unset shell variable: never taken for "no --config"
            raise ConfigError("--config is empty; pass the path of a YAML file, or leave --config out")
        path = Path(explicit).expanduser()
        if path.is_dir():
            raise ConfigError(f"config file {path} is a folder, not a file; pass --config the path of a YAML file")
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist; check the --config path")
        return path
    for candidate in (Path("costcutter.yaml"), paths.user_config_file()):
        if candidate.is_file():
            return candidate
    return None


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_bytes())  # bytes: YAML reads UTF-8, or UTF-16 with its BOM
    except yaml.reader.ReaderError:
        raise ConfigError(f"config file {path} is not text in UTF-8; save it as UTF-8") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config file {path} is not valid YAML{at}; fix its syntax") from None
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        found = "a list" if isinstance(data, list) else "a single value"
        raise ConfigError(f"config file {path} must be a mapping of keys to values, not {found}; "
                          "write one `key: value` a line, such as `regions: [us-east-1]`")
    return data


def _from_environment(environ) -> tuple[dict, list[str]]:
    """The COSTCUTTER_* variables as config values, and a warning for each one that names no
    key: a typo in one variable of a shell profile must not stop every command."""
    schema = _schema()
    values, warnings = {}, []
    for variable, raw in environ.items():
        if not variable.startswith(ENV_PREFIX):
            continue
        key = variable[len(ENV_PREFIX):].lower()
        key = RENAMED.get(key, key)
        if key not in schema:
            warnings.append(_unknown_variable(variable, key, schema))
            continue
        values[key] = _parse_env_value(variable, raw, schema[key])
    return values, warnings


def _unknown_variable(variable: str, key: str, schema: dict) -> str:
    closest = difflib.get_close_matches(key, [*schema, *RENAMED], n=1)
    hint = (f"did you mean {ENV_PREFIX}{RENAMED.get(closest[0], closest[0]).upper()}?" if closest
            else "allowed: " + ", ".join(ENV_PREFIX + k.upper() for k in schema))
    return f"ignoring the environment variable {variable}: CostCutter has no config key {key!r}; {hint}"


def _parse_env_value(variable: str, raw: str, rule: dict):
    types = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
    text = raw.strip()
    if "boolean" in types:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{variable}={raw!r} is not a boolean; use true or false")
    if "integer" in types:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{variable}={raw!r} is not a whole number; write it in digits") from None
    if "dict" in types:
        return _parse_env_mapping(variable, raw)
    if "dict" in types:  # YAML's flow style: COSTCUTTER_FILTERS='{all: {select: [{older_than: 7d}]}}'
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            raise ConfigError(f"{variable}={raw!r} is not a YAML mapping; "
                              "write it like {all: {keep: [{tag: owner}]}}") from None
    if "list" in types:
        return text  # a comma-separated list, split (and checked for blanks) by the schema's coerce rule
    if rule.get("nullable") and text == "":
        return None
    return text


def _parse_env_mapping(variable: str, raw: str) -> dict:
    """A mapping key in a variable is written as YAML: COSTCUTTER_ACCOUNTS='{deny: [123456789012]}'."""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = None
    if not isinstance(value, dict):
        raise ConfigError(f"{variable}={raw!r} is not a YAML mapping; write it like '{{deny: [123456789012]}}'")
    return value
