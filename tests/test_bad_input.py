"""Bad input to the command line, in one table: each case exits 2 with one line that says
what is wrong and what to do, no traceback and no exception's name, and leaves every file
as it was: the event log byte for byte, and no event log where there was none.

Nothing here crosses a process boundary, so the commands run in process (CliRunner).
None of them gets as far as sweeping a region: every case runs with AWS_ENDPOINT_URL
pointing at a port of 127.0.0.1 that refuses connections (unless it sets its own), so a
command that went further than it should would say "cannot reach AWS" and fail its case.
The one real run, which makes the event log the cases start from, sweeps the moto server.

Credentials that AWS rejects: moto accepts any key, and botocore's Stubber cannot reach
the client the CLI makes for itself. So `rejecting_sts` is a tiny HTTP server on
127.0.0.1 that answers every request as STS does for an expired or unknown key, and
botocore parses that answer as it would AWS's.
"""

import builtins
import contextlib
import dataclasses
import http.server
import re
import shutil
import socket
import sqlite3
import threading
from pathlib import Path

import botocore.exceptions
import click
import pytest
import yaml
from click.testing import CliRunner

from costcutter import aws, cli as cli_module, config, lifecycle, paths, sandbox, store as store_module
from costcutter.cli import cli
from costcutter.store import SCHEMA_VERSION, EventStore

KEYS = ", ".join(yaml.safe_load(paths.shipped_file("schema/config.yaml").read_text()))
REGIONS_HINT = "use 'all' or names like us-east-1, eu-west-1"
SERVICES_HINT = "use 'all' or names like ec2, s3 or a type like ec2.instances (see `costcutter services`)"
EXCLUDED_HINT = "use names like ec2, s3 or a type like ec2.instances (see `costcutter services`)"
LEVELS = "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
CSV_HINT = "pass --csv a file path you can write, or - for standard output"
NOT_A_LOG = "is not a readable CostCutter event log"
RESUME_WITH_A_CHANGE = ("--resume continues a run with the configuration it started with; drop --region, "
                        "--exclude-region, --service, --exclude-service, --older-than, --tag, --exclude-tag, "
                        "--exclude-id and --dry-run/--no-dry-run")
DURATION_HINT = "write a whole number and a unit: 30m, 12h, 7d, 2w (s, m, h, d, w)"
RUN = ("run", "--db", "{db}", "--region", "us-east-1")  # reaches AWS unless something stops it first
NO_KEYS = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None}
AWS_CONFIG = """\
[profile broken]
credential_process = /bin/false
[profile loop]
role_arn = arn:aws:iam::123456789012:role/cleaner
source_profile = loop
"""


@dataclasses.dataclass(frozen=True)
class Bad:
    id: str
    args: tuple[str, ...]
    says: str                      # the line after "Error: "; "..." stands for any text
    db: str = "logged"             # what {db} is before the command: see DATABASES
    files: dict = dataclasses.field(default_factory=dict)  # name -> text or bytes, written in {tmp} first
    env: dict = dataclasses.field(default_factory=dict)    # None unsets a variable
    while_: str | None = None      # a condition held while the command runs: see CONDITIONS


# In args, says, files and env: {tmp} is the test's folder (also the working directory),
# {db} the event log's path, {run} the id of the run in it, {port} the refusing port.
CASES = [
    # The config file
    Bad("yaml-malformed", (*RUN, "--config", "{tmp}/c.yaml"), "config file {tmp}/c.yaml is not valid YAML at line 2; "
        "fix its syntax", files={"c.yaml": "regions: [us-east-1\n"}),
    Bad("yaml-a-list", (*RUN, "--config", "{tmp}/c.yaml"), "config file {tmp}/c.yaml must be a mapping of keys to "
        "values, not a list; write one `key: value` a line, such as `regions: [us-east-1]`",
        files={"c.yaml": "- regions: [us-east-1]\n"}),
    Bad("yaml-a-single-value-found-in-the-working-directory", RUN, "config file costcutter.yaml must be a mapping of "
        "keys to values, not a single value; write one `key: value` a line, such as `regions: [us-east-1]`",
        files={"costcutter.yaml": "us-east-1\n"}),
    Bad("yaml-not-text", (*RUN, "--config", "{tmp}/c.yaml"), "config file {tmp}/c.yaml is not text in UTF-8; "
        "save it as UTF-8", files={"c.yaml": b"regions: [us-east-1]\nlog_level: \xc3\x28\n"}),
    Bad("unknown-key-in-a-file", (*RUN, "--config", "{tmp}/c.yaml"), "unknown config key 'regoins' "
        f"(from {{tmp}}/c.yaml); allowed keys: {KEYS}", files={"c.yaml": "regoins: [us-east-1]\n"}),
    # A misspelt COSTCUTTER_* variable is a warning, not an error: tests/test_cli_conventions.py.
    Bad("text-for-an-integer", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'max_processes' (from {tmp}/c.yaml): "
        "must be of integer type, got '4'", files={"c.yaml": "max_processes: '4'\n"}),
    Bad("text-for-an-integer-variable", RUN, "COSTCUTTER_WAIT_TIMEOUT='soon' is not a whole number; "
        "write it in digits", env={"COSTCUTTER_WAIT_TIMEOUT": "soon"}),
    Bad("boolean-for-an-integer", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'threads_per_resource_type' "
        "(from {tmp}/c.yaml): must be of integer type, got True", files={"c.yaml": "threads_per_resource_type: true\n"}),
    Bad("fraction-for-an-integer", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'wait_timeout' (from {tmp}/c.yaml): "
        "must be of integer type, got 1.5", files={"c.yaml": "wait_timeout: 1.5\n"}),
    Bad("list-for-a-boolean", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'dry_run' (from {tmp}/c.yaml): "
        "must be of boolean type, got [False]", files={"c.yaml": "dry_run: [false]\n"}),
    Bad("text-for-a-boolean-variable", RUN, "COSTCUTTER_DRY_RUN='maybe' is not a boolean; use true or false",
        env={"COSTCUTTER_DRY_RUN": "maybe"}),
    Bad("max-processes-0", RUN, "config key 'max_processes' (from COSTCUTTER_MAX_PROCESSES): min value is 1, got 0",
        env={"COSTCUTTER_MAX_PROCESSES": "0"}),
    Bad("max-processes-65", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'max_processes' (from {tmp}/c.yaml): "
        "max value is 64, got 65", files={"c.yaml": "max_processes: 65\n"}),
    Bad("negative-wait-timeout", RUN, "config key 'wait_timeout' (from COSTCUTTER_WAIT_TIMEOUT): min value is 0, "
        "got -5", env={"COSTCUTTER_WAIT_TIMEOUT": "-5"}),
    Bad("kms-pending-window-3-days", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'kms_pending_window_days' "
        "(from {tmp}/c.yaml): min value is 7, got 3", files={"c.yaml": "kms_pending_window_days: 3\n"}),
    Bad("secrets-recovery-window-3-days", (*RUN, "--config", "{tmp}/c.yaml"), "config key "
        "'secrets_recovery_window_days' (from {tmp}/c.yaml): must be 0 (no recovery) or 7 to 30 days, got 3",
        files={"c.yaml": "secrets_recovery_window_days: 3\n"}),
    # Scope filters
    Bad("filter-bad-regex", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'filters.ec2.keep[0]' (from {tmp}/c.yaml): "
        "name_regex: '[ci' is not a valid regular expression (unterminated character set at position 0)",
        files={"c.yaml": "filters: {ec2: {keep: [{name_regex: '[ci'}]}}\n"}),
    Bad("filter-bad-duration", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'filters.all.select[0]' "
        f"(from {{tmp}}/c.yaml): older_than: '1 week' is not a duration; {DURATION_HINT}",
        files={"c.yaml": "filters: {all: {select: [{older_than: 1 week}]}}\n"}),
    Bad("filter-bad-duration-flag", (*RUN, "--older-than", "7days"),
        f"--older-than: '7days' is not a duration; {DURATION_HINT}"),
    Bad("filter-empty-tag-flag", (*RUN, "--tag", ""), "--tag is empty; pass KEY=VALUE"),
    Bad("log-level-unknown", RUN, f"config key 'log_level' (from COSTCUTTER_LOG_LEVEL): {LEVELS}, got 'LOUD'",
        env={"COSTCUTTER_LOG_LEVEL": "LOUD"}),
    Bad("log-level-in-lower-case", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'log_level' (from {tmp}/c.yaml): "
        f"{LEVELS}, got 'debug'", files={"c.yaml": "log_level: debug\n"}),
    # Account guards (the refusals of an account need AWS: tests/test_guards.py)
    Bad("account-id-too-short", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'accounts.deny' (from {tmp}/c.yaml): "
        "'12345' is not an AWS account id (12 digits); quote each id, as in ['012345678901'] (YAML reads a number "
        "starting with 0 as another number)", files={"c.yaml": "accounts: {deny: [12345]}\n"}),
    Bad("account-id-read-as-octal", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'accounts.allow' (from "
        "{tmp}/c.yaml): '1402433619' is not an AWS account id (12 digits); quote each id, as in ['012345678901'] "
        "(YAML reads a number starting with 0 as another number)",
        files={"c.yaml": "accounts: {allow: [012345670123]}\n"}),
    Bad("allow-list-empty", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'accounts.allow' (from {tmp}/c.yaml): "
        "is empty, which would refuse every account; list the accounts to allow, or leave it null for any account",
        files={"c.yaml": "accounts: {allow: []}\n"}),
    Bad("unknown-accounts-key", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'accounts' (from {tmp}/c.yaml): "
        "unknown key 'alow'; allowed: allow, deny, blocked_alias_terms",
        files={"c.yaml": "accounts:\n  alow: ['123456789012']\n"}),
    Bad("blank-blocked-alias-term", (*RUN, "--config", "{tmp}/c.yaml"), "config key 'accounts.blocked_alias_terms' "
        "(from {tmp}/c.yaml): ' ' is not a term to look for in account aliases; use words like prod, or [] to turn "
        "the check off", files={"c.yaml": "accounts: {blocked_alias_terms: [prod, ' ']}\n"}),
    Bad("accounts-variable-not-a-mapping", RUN, "COSTCUTTER_ACCOUNTS='deny' is not a YAML mapping; write it like "
        "'{deny: [123456789012]}'", env={"COSTCUTTER_ACCOUNTS": "deny"}),
    Bad("destroy-of-an-unknown-region", ("destroy", "--db", "{db}", "--region", "us-east-9", "--yes"),
        f"config key 'regions' (from command line): 'us-east-9' is not a known AWS region; {REGIONS_HINT}"),
    # Regions and services
    Bad("unknown-region", ("run", "--db", "{db}", "--region", "us-east-9"), "config key 'regions' (from command "
        f"line): 'us-east-9' is not a known AWS region; {REGIONS_HINT}"),
    Bad("unknown-region-in-a-file", ("run", "--db", "{db}", "--config", "{tmp}/c.yaml"), "config key 'regions' "
        f"(from {{tmp}}/c.yaml): 'mars-1' is not a known AWS region; {REGIONS_HINT}",
        files={"c.yaml": "regions: [eu-west-1, mars-1]\n"}),
    Bad("excluding-every-region", (*RUN, "--exclude-region", "us-east-1"), "config key 'excluded_regions' (from "
        "command line): ['us-east-1'] excludes every region chosen by 'regions' (['us-east-1'], from command line), "
        "so there is nothing to sweep; exclude fewer regions, or choose others"),
    Bad("unknown-excluded-region", (*RUN, "--exclude-region", "us-esat-1"), "config key 'excluded_regions' (from "
        "command line): 'us-esat-1' is not a known AWS region; use names like us-east-1, eu-west-1"),
    Bad("not-a-role-arn", (*RUN, "--assume-role-arn", "cleaner"), "config key 'assume_role_arn' (from command line): "
        "'cleaner' is not the ARN of an IAM role; use one like arn:aws:iam::123456789012:role/NAME"),
    Bad("bad-role-session-name", (*RUN, "--assume-role-arn", "arn:aws:iam::123456789012:role/cleaner",
                                  "--role-session-name", "my session"), "config key 'role_session_name' (from "
        "command line): 'my session' is not a role session name; use 2 to 64 letters, digits or +=,.@-"),
    Bad("unknown-profile-flag", (*RUN, "--profile", "nope"), "AWS profile 'nope' is not configured; check "
        "AWS_PROFILE and aws_profile, or run `aws configure --profile nope`"),
    Bad("unknown-region-variable", ("run", "--db", "{db}"), "config key 'regions' (from COSTCUTTER_REGIONS): "
        f"'us-esat-2' is not a known AWS region; {REGIONS_HINT}", env={"COSTCUTTER_REGIONS": "us-east-1,us-esat-2"}),
    Bad("empty-region", ("run", "--db", "{db}", "--region", ""),
        f"config key 'regions' (from command line): is empty; {REGIONS_HINT}"),
    Bad("empty-regions-variable", ("run", "--db", "{db}"),
        f"config key 'regions' (from COSTCUTTER_REGIONS): is empty; {REGIONS_HINT}", env={"COSTCUTTER_REGIONS": ""}),
    Bad("unknown-service", (*RUN, "--service", "lambada"), "config key 'services' (from command line): 'lambada' is "
        f"not a service or type CostCutter can clean; {SERVICES_HINT}"),
    Bad("unknown-type", (*RUN, "--service", "ec2.lambdas"), "config key 'services' (from command line): "
        f"'ec2.lambdas' is not a service or type CostCutter can clean; {SERVICES_HINT}"),
    Bad("unknown-excluded-type", (*RUN, "--exclude-service", "s3.bucket"), "config key 'excluded_services' "
        f"(from command line): 's3.bucket' is not a service or type CostCutter can clean; {EXCLUDED_HINT}"),
    Bad("empty-service", (*RUN, "--service", ""), f"config key 'services' (from command line): is empty; "
        f"{SERVICES_HINT}"),
    Bad("excluding-every-chosen-service", (*RUN, "--service", "ec2", "--exclude-service", "ec2"),
        "config key 'excluded_services' (from command line): ['ec2'] excludes every service chosen by 'services' "
        "(['ec2'], from command line), so there is nothing to sweep; exclude fewer services, or choose others"),
    Bad("excluding-every-chosen-type-in-a-file", (*RUN, "--config", "{tmp}/c.yaml"),
        "config key 'excluded_services' (from {tmp}/c.yaml): ['s3.buckets'] excludes every service chosen by "
        "'services' (['s3'], from {tmp}/c.yaml), so there is nothing to sweep; exclude fewer services, or choose "
        "others", files={"c.yaml": "services: [s3]\nexcluded_services: [s3.buckets]\n"}),
    # --config
    Bad("config-missing", (*RUN, "--config", "{tmp}/nope.yaml"),
        "config file {tmp}/nope.yaml does not exist; check the --config path"),
    Bad("config-a-folder", (*RUN, "--config", "{tmp}"),
        "config file {tmp} is a folder, not a file; pass --config the path of a YAML file"),
    Bad("config-empty", (*RUN, "--config", ""),
        "--config is empty; pass the path of a YAML file, or leave --config out"),
    # Usage
    Bad("unknown-option", ("run", "--db", "{db}", "--regoin", "us-east-1"),
        "No such option '--regoin'. Did you mean '--region'? Try 'costcutter run --help' for help."),
    Bad("unknown-command", ("runn", "--db", "{db}"),
        "No such command 'runn'. (Did you mean one of: 'run', 'runs'?) Try 'costcutter --help' for help."),
    Bad("an-argument-too-many", ("runs", "--db", "{db}", "extra"),
        "Got unexpected extra argument (extra). Try 'costcutter runs --help' for help."),
    Bad("option-without-its-value", ("run", "--db", "{db}", "--region"),
        "Option '--region' requires an argument. Try 'costcutter run --help' for help."),
    # Run ids
    Bad("report-of-an-unknown-run", ("report", "nosuchrun", "--db", "{db}"),
        "no run 'nosuchrun' in {db}; `costcutter runs` lists the runs"),
    Bad("csv-of-an-unknown-run", ("report", "nosuchrun", "--db", "{db}", "--csv", "{tmp}/run.csv"),
        "no run 'nosuchrun' in {db}; `costcutter runs` lists the runs"),
    Bad("report-of-an-empty-run-id", ("report", "", "--db", "{db}"), "no run '' in {db}; `costcutter runs` lists the runs"),
    Bad("report-of-a-log-without-runs", ("report", "--db", "{db}"),
        "there are no runs in {db} yet; start one with `costcutter run`", db="empty"),
    Bad("report-without-a-log", ("report", "--db", "{db}"),
        "no event log at {db}; run `costcutter run` first or pass --db", db="none"),
    Bad("resume-of-an-unknown-run", ("run", "--db", "{db}", "--resume", "nosuchrun"),
        "no run 'nosuchrun' in {db}; `costcutter runs` lists the runs"),
    Bad("resume-of-an-empty-run-id", ("run", "--db", "{db}", "--resume", ""),
        "no run '' in {db}; `costcutter runs` lists the runs"),
    Bad("resume-without-a-log", ("run", "--db", "{db}", "--resume", "nosuchrun"),
        "no event log at {db}; run `costcutter run` first or pass --db", db="none"),
    Bad("apply-of-an-unknown-run", ("apply", "nosuchrun", "--db", "{db}", "--yes"),
        "no run 'nosuchrun' in {db}; `costcutter runs` lists the runs"),
    Bad("apply-of-an-empty-run-id", ("apply", "", "--db", "{db}", "--yes"),
        "no run '' in {db}; `costcutter runs` lists the runs"),
    Bad("apply-without-a-log", ("apply", "nosuchrun", "--db", "{db}", "--yes"),
        "no event log at {db}; run `costcutter run` first or pass --db", db="none"),
    Bad("apply-without-a-run-id", ("apply", "--db", "{db}", "--yes"),
        "Missing argument 'PLAN_RUN_ID'. Try 'costcutter apply --help' for help."),
    Bad("apply-with-no-plan-age", ("apply", "{run}", "--db", "{db}", "--yes"), "config key 'max_plan_age_hours' "
        "(from COSTCUTTER_MAX_PLAN_AGE_HOURS): min value is 1, got 0", env={"COSTCUTTER_MAX_PLAN_AGE_HOURS": "0"}),
    Bad("resume-with-a-region", ("run", "--db", "{db}", "--resume", "{run}", "--region", "us-east-1"),
        RESUME_WITH_A_CHANGE),
    Bad("resume-with-a-service", ("run", "--db", "{db}", "--resume", "{run}", "--exclude-service", "s3"),
        RESUME_WITH_A_CHANGE),
    Bad("resume-with-an-excluded-region", ("run", "--db", "{db}", "--resume", "{run}", "--exclude-region", "eu-west-1"),
        RESUME_WITH_A_CHANGE),
    Bad("resume-of-a-dry-run-for-real", ("run", "--db", "{db}", "--resume", "{run}", "--no-dry-run", "--yes"),
        RESUME_WITH_A_CHANGE),
    Bad("resume-with-a-filter", ("run", "--db", "{db}", "--resume", "{run}", "--older-than", "7d"),
        RESUME_WITH_A_CHANGE),
    # CSV exports
    Bad("csv-to-a-folder", ("report", "--db", "{db}", "--csv", "{tmp}"),
        f"cannot write the CSV export to {{tmp}}: Is a directory; {CSV_HINT}"),
    Bad("csv-under-a-file", ("report", "--db", "{db}", "--csv", "{tmp}/notes.txt/run.csv"),
        f"cannot write the CSV export to {{tmp}}/notes.txt/run.csv: Not a directory; {CSV_HINT}",
        files={"notes.txt": "mine\n"}),
    Bad("csv-to-an-empty-path", ("report", "--db", "{db}", "--csv", ""), f"--csv is empty; {CSV_HINT}"),
    Bad("csv-and-json", ("report", "--db", "{db}", "--csv", "--json"),
        "--csv and --json are two formats of the report; pass one of them"),
    Bad("resources-without-csv", ("report", "--db", "{db}", "--resources"),
        "--resources chooses the rows of the CSV export; pass it with --csv"),
    # Credentials and endpoints
    Bad("no-credentials", RUN, "no AWS credentials found; set AWS_PROFILE (or aws_profile), or AWS_ACCESS_KEY_ID "
        "and AWS_SECRET_ACCESS_KEY", env=NO_KEYS),
    Bad("unknown-aws-profile", RUN, "AWS profile 'nope' is not configured; check AWS_PROFILE and aws_profile, "
        "or run `aws configure --profile nope`", env={"AWS_PROFILE": "nope"}),
    Bad("unknown-aws-profile-in-a-file", (*RUN, "--config", "{tmp}/c.yaml"), "AWS profile 'nope' is not configured; "
        "check AWS_PROFILE and aws_profile, or run `aws configure --profile nope`",
        files={"c.yaml": "aws_profile: nope\n"}),
    Bad("credential-process-fails", RUN, "cannot load the AWS credentials (Error when retrieving credentials from "
        "custom-process: ...); fix the profile in your AWS config, or pick another profile",
        files={"aws-config": AWS_CONFIG}, env={**NO_KEYS, "AWS_CONFIG_FILE": "{tmp}/aws-config", "AWS_PROFILE": "broken"}),
    Bad("profile-sourcing-itself", RUN, "cannot load the AWS credentials (Infinite loop in credential configuration "
        "detected. ...); fix the profile in your AWS config, or pick another profile",
        files={"aws-config": AWS_CONFIG}, env={**NO_KEYS, "AWS_CONFIG_FILE": "{tmp}/aws-config", "AWS_PROFILE": "loop"}),
    Bad("expired-credentials", RUN, "AWS rejected the credentials (ExpiredToken); refresh them or pick another profile",
        while_="STS says ExpiredToken"),
    Bad("unknown-access-key", RUN, "AWS rejected the credentials (InvalidClientTokenId); refresh them or pick another "
        "profile", while_="STS says InvalidClientTokenId"),
    Bad("endpoint-refusing-connections", RUN, 'cannot reach AWS (Could not connect to the endpoint URL: '
        '"http://127.0.0.1:{port}/"); check the network or AWS_ENDPOINT_URL'),
    Bad("endpoint-not-a-url", RUN, "AWS_ENDPOINT_URL (or the profile's endpoint_url) is not a URL: Invalid endpoint: "
        "nonsense; set it to one like https://sts.amazonaws.com, or unset it", env={"AWS_ENDPOINT_URL": "nonsense"}),
    # The event log
    Bad("db-a-folder", RUN, "{db} is a folder, not an event log; pass --db the path of a file", db="folder"),
    Bad("db-a-folder-to-report", ("report", "--db", "{db}"), "{db} is a folder, not an event log; pass --db the path "
        "of a file", db="folder"),
    Bad("db-a-folder-from-the-environment", ("runs",), "{db} is a folder, not an event log; pass --db the path of a "
        "file", db="folder", env={"COSTCUTTER_DATABASE": "{db}"}),
    Bad("db-under-a-file", ("run", "--db", "{tmp}/notes.txt/events.db", "--region", "us-east-1"),
        "cannot open the event log {tmp}/notes.txt/events.db: Not a directory; check the path or pass --db",
        files={"notes.txt": "mine\n"}),
    Bad("db-read-only", RUN, "the event log {db} is read-only; make it and its folder writable, or pass --db to use "
        "another file", while_="the log is read-only"),
    Bad("db-in-a-read-only-folder", RUN, "cannot open the event log {db} (unable to open database file); check that "
        "it and its folder are writable (SQLite keeps its -wal and -shm files there), or pass --db to use another "
        "file", while_="its folder is read-only"),
    Bad("db-foreign", RUN, "{db} is not a CostCutter event log (it has no runs and events tables); pass --db to use "
        "another file", db="foreign"),
    Bad("db-foreign-to-export", ("report", "--db", "{db}", "--csv", "-"), "{db} is not a CostCutter event log "
        "(it has no runs and events tables); pass --db to use another file", db="foreign"),
    Bad("db-newer", RUN, f"the event log {{db}} has schema version 99, newer than this CostCutter ... knows (up to "
        f"{SCHEMA_VERSION}); upgrade CostCutter, or pass --db to use another file", db="newer"),
    Bad("db-newer-to-list", ("runs", "--db", "{db}"), f"the event log {{db}} has schema version 99, newer than this "
        f"CostCutter ... knows (up to {SCHEMA_VERSION}); upgrade CostCutter, or pass --db to use another file",
        db="newer"),
    Bad("db-damaged", RUN, "the event log {db} is damaged (...); nothing was written to it; move it aside and keep "
        "it, or pass --db to use another file", db="damaged"),
    Bad("db-damaged-to-resume", ("run", "--db", "{db}", "--resume", "{run}"), "the event log {db} is damaged (...); "
        "nothing was written to it; move it aside and keep it, or pass --db to use another file", db="damaged"),
    Bad("db-damaged-to-report", ("report", "--db", "{db}"), f"{{db}} {NOT_A_LOG} (database disk image is "
        "malformed); move it aside or pass --db to use another file", db="damaged"),
    Bad("db-damaged-to-export-over-a-file", ("report", "--db", "{db}", "--csv", "{tmp}/run.csv"),
        f"{{db}} {NOT_A_LOG} (database disk image is malformed); move it aside or pass --db to use another file",
        db="damaged", files={"run.csv": "an export kept from before\n"}),
    Bad("db-damaged-to-list", ("runs", "--db", "{db}"), f"{{db}} {NOT_A_LOG} (database disk image is malformed); "
        "move it aside or pass --db to use another file", db="damaged"),
    Bad("db-not-sqlite", RUN, f"{{db}} {NOT_A_LOG} (file is not a database); move it aside or pass --db to use "
        "another file", db="not sqlite"),
    Bad("db-not-sqlite-to-report", ("report", "--db", "{db}", "--json"), f"{{db}} {NOT_A_LOG} (file is not a "
        "database); move it aside or pass --db to use another file", db="not sqlite"),
    Bad("db-locked", RUN, "the event log {db} is locked by another program; wait for it to finish, or pass --db to "
        "use another file", while_="another writer holds the log"),
    Bad("db-locked-to-resume", ("run", "--db", "{db}", "--resume", "{run}"), "the event log {db} is locked by another "
        "program; wait for it to finish, or pass --db to use another file", while_="another writer holds the log"),
    Bad("db-locked-exclusively-to-list", ("runs", "--db", "{db}"), "the event log {db} is locked by another program; "
        "wait for it to finish, or pass --db to use another file", while_="another program holds the log alone"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(case, logged_run, refusing_port, tmp_path, monkeypatch,
                                                          request):
    place = Place(tmp_path, tmp_path / "logs" / "events.db", logged_run[1], refusing_port)
    place.db.parent.mkdir()
    DATABASES[case.db](place, logged_run[0], request)
    for name, content in case.files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    environment = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{refusing_port}", "AWS_EC2_METADATA_DISABLED": "true",
                   **case.env}
    for variable, value in environment.items():
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, place.fill(value))
    before = files_under(tmp_path)

    with CONDITIONS[case.while_](place, monkeypatch, request):
        result = CliRunner().invoke(cli, [place.fill(arg) for arg in case.args], prog_name="costcutter",
                                    catch_exceptions=False)

    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [result.output.strip()] and result.stdout == "", result.output
    line = result.output.strip()
    assert line.startswith("Error: "), line
    assert re.fullmatch(place.pattern(case.says), line[len("Error: "):]), line
    assert not exception_names() & set(re.findall(r"\w+", line[len("Error: "):])), line
    assert files_under(tmp_path) == before


@dataclasses.dataclass(frozen=True)
class Place:
    tmp: Path
    db: Path
    run: str
    port: int

    def fill(self, text: str) -> str:
        for name, value in (("{tmp}", self.tmp), ("{db}", self.db), ("{run}", self.run), ("{port}", self.port)):
            text = text.replace(name, str(value))
        return text

    def pattern(self, says: str) -> str:
        return re.escape(self.fill(says)).replace(re.escape("..."), ".*")


def files_under(folder: Path) -> dict:
    """Every file and folder under the test's folder with its content, but for what SQLite and
    the diagnostic log may leave without changing anything: a -shm index, an empty -wal."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_relative_to(folder / "xdg_state_home") or path.name.endswith("-shm"):
            continue
        if path.is_dir():
            found[path] = "folder"
        elif not (path.name.endswith("-wal") and path.stat().st_size == 0):
            found[path] = path.read_bytes()
    return found


@pytest.fixture(scope="module")
def logged_run(moto_server, tmp_path_factory):
    """(path, run id): an event log with one finished dry run that would delete a bucket;
    each case starts from a copy."""
    sandbox.reset_server(moto_server)
    db = tmp_path_factory.mktemp("logged") / "events.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", moto_server)
        patch.chdir(db.parent)
        aws._clients.clear()
        sandbox.seed("us-east-1", services=("s3",))
        result = CliRunner().invoke(cli, ["run", "--db", str(db), "--region", "us-east-1", "--service", "s3"],
                                    catch_exceptions=False)
        aws._clients.clear()
    assert result.exit_code == 0, result.output
    with EventStore(db, read_only=True) as store:
        run_id = store.latest_run_id()
        assert store.outcome_counts(run_id)["would_delete"] == 1
    return db, run_id


@pytest.fixture(scope="module")
def refusing_port():
    """A port of 127.0.0.1 that refuses connections: bound, never listening, held to the end."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


# What the event log ({db}) is before the command.

def _copy_of_the_log(place, logged, request):
    shutil.copyfile(logged, place.db)


def _damaged_log(place, logged, request):
    _copy_of_the_log(place, logged, request)
    request.getfixturevalue("damage")(place.db, place.run)


def _newer_log(place, logged, request):
    _copy_of_the_log(place, logged, request)
    with contextlib.closing(sqlite3.connect(place.db)) as connection:
        connection.execute("PRAGMA user_version = 99")


def _foreign_database(place, logged, request):
    with contextlib.closing(sqlite3.connect(place.db)) as connection, connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
        connection.execute("INSERT INTO notes VALUES ('not an event log')")


DATABASES = {
    "logged": _copy_of_the_log,
    "none": lambda place, logged, request: None,
    "empty": lambda place, logged, request: EventStore(place.db).close(),
    "folder": lambda place, logged, request: place.db.mkdir(),
    "foreign": _foreign_database,
    "newer": _newer_log,
    "damaged": _damaged_log,
    "not sqlite": lambda place, logged, request: place.db.write_bytes(b"this is not sqlite\n" * 300),
}


# Conditions held while the command runs.

@contextlib.contextmanager
def _nothing(place, monkeypatch, request):
    yield


@contextlib.contextmanager
def _held_by_a_writer(place, monkeypatch, request, exclusively=False):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_SECONDS", 0.2)
    holder = sqlite3.connect(place.db, isolation_level=None)
    if exclusively:  # readers too are kept out
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE" if exclusively else "BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _read_only(part):
    def condition(place, monkeypatch, request):
        request.getfixturevalue("read_only")(place.db if part == "file" else place.db.parent)
        yield
    return contextlib.contextmanager(condition)


@contextlib.contextmanager
def rejecting_sts(code, status, place, monkeypatch, request):
    """A server on 127.0.0.1 answering every call as STS answers for credentials it rejects."""
    body = (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>The security token included in the request is not valid</Message>"
            "</Error><RequestId>0b7a1c2d-0000-4000-8000-000000000000</RequestId></ErrorResponse>").encode()

    class Rejecting(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Rejecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


CONDITIONS = {
    None: _nothing,
    "another writer holds the log": _held_by_a_writer,
    "another program holds the log alone": lambda *args: _held_by_a_writer(*args, exclusively=True),
    "the log is read-only": _read_only("file"),
    "its folder is read-only": _read_only("folder"),
    "STS says ExpiredToken": lambda *args: rejecting_sts("ExpiredToken", 400, *args),
    "STS says InvalidClientTokenId": lambda *args: rejecting_sts("InvalidClientTokenId", 403, *args),
}


def exception_names() -> set[str]:
    """The names of the exceptions a message could leak: Python's own, and those of the
    libraries and modules the commands run. Bare Error, Exception and Warning are words."""
    modules = (builtins, botocore.exceptions, sqlite3, yaml, click.exceptions, config, store_module, aws, lifecycle,
               cli_module)
    return {name for module in modules for name, value in vars(module).items()
            if isinstance(value, type) and issubclass(value, BaseException)} - {"Error", "Exception", "Warning"}


def test_the_table_covers_each_kind_of_database_and_condition():
    assert {case.db for case in CASES} == set(DATABASES)
    assert {case.while_ for case in CASES} == set(CONDITIONS)
    assert len({case.id for case in CASES}) == len(CASES) >= 40
