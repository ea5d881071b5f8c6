"""Configuration: precedence of the layers, and one clear line for every kind of mistake."""

import pytest
import yaml
from click.testing import CliRunner

from costcutter import config, paths, registry
from costcutter.cli import cli


def write(path, text):
    path.write_text(text)
    return path


def test_built_in_defaults_are_a_safe_dry_run():
    settings = config.load()
    assert settings.dry_run is True
    assert settings.regions == "all"
    assert settings.services == "all"
    assert settings.database_path.name == "costcutter.db"


def test_each_layer_overrides_the_one_below(tmp_path):
    file = write(tmp_path / "c.yaml", "max_processes: 2\nthreads_per_subresource: 3\nwait_timeout: 7\n")
    environ = {"COSTCUTTER_THREADS_PER_SUBRESOURCE": "5", "COSTCUTTER_WAIT_TIMEOUT": "9"}
    settings = config.load(file, {"wait_timeout": 11}, environ=environ)
    assert settings.log_level == "INFO"              # built-in default
    assert settings.max_processes == 2               # file over default
    assert settings.threads_per_resource_type == 5   # environment over file
    assert settings.wait_timeout == 11               # flag over environment


def test_costcutter_yaml_in_the_working_directory_is_read(tmp_path):
    write(tmp_path / "costcutter.yaml", "regions: [eu-west-1]\n")
    assert config.load().regions == ["eu-west-1"]


def test_the_xdg_config_file_is_read_when_there_is_no_local_one(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / "xdg" / "costcutter").mkdir(parents=True)
    write(tmp_path / "xdg" / "costcutter" / "config.yaml", "max_processes: 3\n")
    assert config.load().max_processes == 3


def test_environment_values_are_parsed_by_type():
    settings = config.load(environ={"COSTCUTTER_DRY_RUN": "false", "COSTCUTTER_REGIONS": "us-east-1, eu-west-1",
                                    "COSTCUTTER_EXCLUDED_SERVICES": "s3"})
    assert settings.dry_run is False
    assert settings.regions == ["us-east-1", "eu-west-1"]
    assert sorted(settings.chosen_services()) == [service for service in registry.service_names() if service != "s3"]


REGIONS_HINT = "use 'all' or names like us-east-1, eu-west-1"
SERVICES_HINT = "use 'all' or names like ec2, s3 or a type like ec2.instances (see `costcutter services`)"


@pytest.mark.parametrize("yaml_text, message", [
    ("regoins: all\n", "unknown config key 'regoins' (from {file}); allowed keys: {keys}"),
    ("max_processes: four\n", "config key 'max_processes' (from {file}): must be of integer type, got 'four'"),
    ("max_processes: 0\n", "config key 'max_processes' (from {file}): min value is 1, got 0"),
    # bool is an int in Python; a boolean must not pass for 1
    ("max_processes: true\n", "config key 'max_processes' (from {file}): must be of integer type, got True"),
    ("threads_per_resource_type: true\n",
     "config key 'threads_per_resource_type' (from {file}): must be of integer type, got True"),
    ("wait_timeout: false\n", "config key 'wait_timeout' (from {file}): must be of integer type, got False"),
    ("regions: [us-east-1, mars-north-1]\n",
     f"config key 'regions' (from {{file}}): 'mars-north-1' is not a known AWS region; {REGIONS_HINT}"),
    ("services: [ec2, lambada]\n",
     f"config key 'services' (from {{file}}): 'lambada' is not a service or type CostCutter can clean; {SERVICES_HINT}"),
    # an empty list is never taken for `all`
    ("regions: []\n", f"config key 'regions' (from {{file}}): is empty; {REGIONS_HINT}"),
    ("regions: ''\n", f"config key 'regions' (from {{file}}): is empty; {REGIONS_HINT}"),
    ("regions: ' , '\n", f"config key 'regions' (from {{file}}): is empty; {REGIONS_HINT}"),
    ("services: []\n", f"config key 'services' (from {{file}}): is empty; {SERVICES_HINT}"),
    ("excluded_services: ''\n", "config key 'excluded_services' (from {file}): is empty; use names like ec2, s3 or a type like ec2.instances (see `costcutter services`)"),
    ("log_level: LOUD\n",
     "config key 'log_level' (from {file}): must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"),
    ("regions: [us-east-1\n", "config file {file} is not valid YAML at line 2; fix its syntax"),
    ("- just\n- a list\n", "config file {file} must be a mapping of keys to values, not a list; "
                            "write one `key: value` a line, such as `regions: [us-east-1]`"),
])
def test_config_file_mistakes(tmp_path, yaml_text, message):
    file = write(tmp_path / "bad.yaml", yaml_text)
    with pytest.raises(config.ConfigError) as error:
        config.load(file)
    keys = ", ".join(yaml.safe_load(paths.shipped_file("schema/config.yaml").read_text()))
    assert str(error.value) == message.format(file=file, keys=keys)


@pytest.mark.parametrize("environ, message", [
    ({"COSTCUTTER_DRY_RUN": "maybe"}, "COSTCUTTER_DRY_RUN='maybe' is not a boolean; use true or false"),
    ({"COSTCUTTER_MAX_PROCESSES": "many"}, "COSTCUTTER_MAX_PROCESSES='many' is not a whole number"),
    ({"COSTCUTTER_REGIONS": "nowhere-1"}, "config key 'regions' (from COSTCUTTER_REGIONS): 'nowhere-1' is not"),
])
def test_environment_mistakes(environ, message):
    with pytest.raises(config.ConfigError) as error:
        config.load(environ=environ)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("variable, hint", [
    ("COSTCUTTER_REGOINS", "did you mean COSTCUTTER_REGIONS?"),
    ("COSTCUTTER_REGION", "did you mean COSTCUTTER_REGIONS?"),
    ("COSTCUTTER_THREADS_PER_SUBRESOURSE", "did you mean COSTCUTTER_THREADS_PER_RESOURCE_TYPE?"),  # the old name's typo
    ("COSTCUTTER_XYZZY", "allowed: COSTCUTTER_DRY_RUN, COSTCUTTER_REGIONS, "),
])
def test_a_misspelt_variable_is_a_warning_naming_the_closest_key_and_is_ignored(variable, hint):
    settings = config.load(environ={variable: "eu-west-1", "COSTCUTTER_WAIT_TIMEOUT": "9"})
    (warning,) = settings.warnings
    key = variable.removeprefix("COSTCUTTER_").lower()
    assert warning.startswith(f"ignoring the environment variable {variable}: CostCutter has no config key {key!r}; "
                              f"{hint}")
    assert settings.regions == "all" and settings.wait_timeout == 9  # ignored; the others still apply
    assert "warnings" not in settings.to_dict()


def test_excluded_regions_are_left_out_of_those_chosen():
    settings = config.load(environ={"COSTCUTTER_EXCLUDED_REGIONS": "eu-west-1"},
                           flags={"regions": "us-east-1,eu-west-1,us-west-2"})
    assert settings.chosen_regions() == ["us-east-1", "us-west-2"]
    everything = config.load(flags={"excluded_regions": "eu-west-1,us-west-2"})
    assert everything.chosen_regions(["eu-west-1", "us-east-1", "us-west-2"]) == ["us-east-1"]


def test_the_user_folders_are_the_systems_own(monkeypatch, tmp_path):
    """platformdirs: the XDG folders on Linux, ~/Library/Application Support on macOS."""
    import platformdirs
    import platformdirs.macos

    monkeypatch.setenv("HOME", str(tmp_path))
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):  # which platformdirs honours on macOS too
        monkeypatch.delenv(variable)
    monkeypatch.setattr(platformdirs, "PlatformDirs", platformdirs.macos.MacOS)
    support = tmp_path / "Library" / "Application Support" / "costcutter"
    assert paths.default_database() == support / "costcutter.db"
    assert paths.user_config_file() == support / "config.yaml"
    assert paths.default_log_dir() == support


def test_a_missing_config_file_is_named():
    with pytest.raises(config.ConfigError, match="config file nowhere.yaml does not exist"):
        config.load("nowhere.yaml")


@pytest.mark.parametrize("args, message", [
    (["--region", "us-east-7"], "Error: config key 'regions' (from command line): 'us-east-7' is not a known AWS region"),
    (["--service", "ec3"], "Error: config key 'services' (from command line): 'ec3' is not a service"),
    (["--exclude-service", "all"], "Error: config key 'excluded_services' (from command line): 'all' is not a service"),
    (["--config", "missing.yaml"], "Error: config file missing.yaml does not exist"),
    (["--older-than", "7"], "Error: --older-than: '7' is not a duration; write a whole number and a unit"),
    (["--older-than", ""], "Error: --older-than is empty; pass an age like 7d"),
    (["--tag", "=ci"], "Error: --tag: '=ci' names no tag key; write KEY or KEY=VALUE"),
    (["--tag", " "], "Error: --tag is empty; pass KEY=VALUE"),
    (["--exclude-tag", ""], "Error: --exclude-tag is empty; pass KEY=VALUE"),
    (["--exclude-id", ""], "Error: --exclude-id is empty; pass an id or ARN"),
    (["--resume", "abc", "--exclude-id", "vol-1"], "Error: --resume continues a run with the configuration it started"),
])
def test_the_cli_reports_config_mistakes_in_one_line_with_exit_2(args, message):
    result = CliRunner().invoke(cli, ["run", *args])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(message)
    assert "Traceback" not in result.output


@pytest.mark.parametrize("days, allowed", [(0, True), (7, True), (30, True), (3, False), (31, False)])
def test_the_secrets_recovery_window_is_0_or_7_to_30_days(days, allowed):
    if allowed:
        assert config.load(flags={"secrets_recovery_window_days": days}).secrets_recovery_window_days == days
    else:
        with pytest.raises(config.ConfigError, match=f"must be 0 .no recovery. or 7 to 30 days, got {days}"):
            config.load(flags={"secrets_recovery_window_days": days})


@pytest.mark.parametrize("environ, message", [
    ({"COSTCUTTER_REGIONS": ""}, f"config key 'regions' (from COSTCUTTER_REGIONS): is empty; {REGIONS_HINT}"),
    ({"COSTCUTTER_REGIONS": "  "}, f"config key 'regions' (from COSTCUTTER_REGIONS): is empty; {REGIONS_HINT}"),
    ({"COSTCUTTER_REGIONS": ","}, f"config key 'regions' (from COSTCUTTER_REGIONS): is empty; {REGIONS_HINT}"),
    ({"COSTCUTTER_SERVICES": ""}, f"config key 'services' (from COSTCUTTER_SERVICES): is empty; {SERVICES_HINT}"),
    ({"COSTCUTTER_EXCLUDED_SERVICES": ""},
     "config key 'excluded_services' (from COSTCUTTER_EXCLUDED_SERVICES): is empty; use names like ec2, s3 or a type like ec2.instances (see `costcutter services`)"),
])
def test_an_empty_list_in_the_environment_is_an_error_not_all(environ, message):
    with pytest.raises(config.ConfigError) as error:
        config.load(environ=environ)
    assert str(error.value) == message


def test_an_empty_exclusion_list_in_a_file_excludes_nothing(tmp_path):
    file = write(tmp_path / "c.yaml", "excluded_services: []\n")
    assert config.load(file).chosen_services() == config.load().chosen_services()


def test_lists_are_deduplicated_in_order_in_every_layer(tmp_path):
    file = write(tmp_path / "c.yaml", "regions: [eu-west-1, us-east-1, eu-west-1]\nservices: [s3, ec2, s3]\n"
                                      "excluded_services: [ec2, ec2]\n")
    settings = config.load(file)
    assert settings.regions == ["eu-west-1", "us-east-1"]
    assert settings.services == ["s3", "ec2"]
    assert settings.excluded_services == ["ec2"]
    from_environment = config.load(environ={"COSTCUTTER_REGIONS": "us-west-2,eu-west-1, us-west-2",
                                            "COSTCUTTER_SERVICES": "ec2,ec2"})
    assert from_environment.regions == ["us-west-2", "eu-west-1"]
    assert from_environment.services == ["ec2"]
    from_flags = config.load(flags={"regions": "eu-west-1,eu-west-1,us-east-1,eu-west-1"})
    assert from_flags.regions == ["eu-west-1", "us-east-1"]


def test_a_single_region_written_as_text_in_a_file_is_a_list_of_one(tmp_path):
    file = write(tmp_path / "c.yaml", "regions: eu-west-1\nservices: 'ec2, s3'\nexcluded_services: s3\n")
    settings = config.load(file)
    assert settings.regions == ["eu-west-1"]
    assert settings.chosen_services() == ["ec2"]


def test_excluding_every_chosen_service_is_an_error(tmp_path):
    file = write(tmp_path / "c.yaml", "services: [ec2]\n")
    with pytest.raises(config.ConfigError) as error:
        config.load(file, environ={"COSTCUTTER_EXCLUDED_SERVICES": "ec2"})
    assert str(error.value) == (
        "config key 'excluded_services' (from COSTCUTTER_EXCLUDED_SERVICES): ['ec2'] excludes every service "
        f"chosen by 'services' (['ec2'], from {file}), so there is nothing to sweep; exclude fewer services, "
        "or choose others")


@pytest.mark.parametrize("args, message", [
    (["--region", ""], f"Error: config key 'regions' (from command line): is empty; {REGIONS_HINT}"),
    (["--region", " "], f"Error: config key 'regions' (from command line): is empty; {REGIONS_HINT}"),
    (["--region", "us-east-1", "--region", ""],
     f"Error: config key 'regions' (from command line): is empty; {REGIONS_HINT}"),
    (["--region", "us-east-1", "--service", ""],
     f"Error: config key 'services' (from command line): is empty; {SERVICES_HINT}"),
    (["--region", "us-east-1", "--exclude-service", ""],
     "Error: config key 'excluded_services' (from command line): is empty; use names like ec2, s3 or a type like ec2.instances (see `costcutter services`)"),
])
def test_an_empty_flag_is_an_error_not_all(sandbox_endpoint, db_path, args, message):
    result = CliRunner().invoke(cli, ["run", "--db", str(db_path), "--no-dry-run", "--yes", *args])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [message]
    assert not db_path.exists()  # no run was started


def test_the_old_name_of_threads_per_resource_type_still_works(tmp_path):
    file = write(tmp_path / "c.yaml", "threads_per_subresource: 3\n")
    assert config.load(file).threads_per_resource_type == 3
    assert config.load(environ={"COSTCUTTER_THREADS_PER_SUBRESOURCE": "5"}).threads_per_resource_type == 5
    stored = {**config.load().to_dict(), "threads_per_subresource": 6}
    del stored["threads_per_resource_type"]
    assert config.restore(stored).threads_per_resource_type == 6  # a run recorded before the rename


def test_types_are_chosen_and_excluded_by_service_or_by_type():
    chosen = config.load(flags={"services": "ec2.instances,s3", "excluded_services": "s3.buckets"}).chosen_types()
    assert [t.key for t in chosen] == ["ec2.instances"]
    everything_but = config.load(flags={"excluded_services": "ec2.key_pairs"}).chosen_types()
    assert "ec2.key_pairs" not in [t.key for t in everything_but] and "ec2.instances" in [t.key for t in everything_but]


def test_an_unknown_type_is_named_in_the_error():
    with pytest.raises(config.ConfigError, match="'ec2.lambdas' is not a service or type CostCutter can clean"):
        config.load(flags={"services": "ec2.lambdas"})


# Scope filters (costcutter/scope.py): each bad rule is one line naming where it is.

DURATION_HINT = "write a whole number and a unit: 30m, 12h, 7d, 2w (s, m, h, d, w)"


@pytest.mark.parametrize("yaml_text, message", [
    ("filters: {all: {keep: [{name_regex: '('}]}}",
     "config key 'filters.all.keep[0]' (from {file}): name_regex: '(' is not a valid regular expression "
     "(missing ), unterminated subpattern at position 0)"),
    ("filters: {ec2: {select: [{tag: owner}, {tag_regex: 'env=[a-'}]}}",
     "config key 'filters.ec2.select[1]' (from {file}): tag_regex: '[a-' is not a valid regular expression "
     "(unterminated character set at position 0)"),
    ("filters: {all: {select: [{older_than: 7days}]}}",
     f"config key 'filters.all.select[0]' (from {{file}}): older_than: '7days' is not a duration; {DURATION_HINT}"),
    ("filters: {all: {keep: [{newer_than: 12}]}}",
     f"config key 'filters.all.keep[0]' (from {{file}}): newer_than: 12 is not a duration; {DURATION_HINT}"),
    ("filters: {all: {keep: [{tag_regex: env}]}}",
     "config key 'filters.all.keep[0]' (from {file}): tag_regex: 'env' has no '='; write KEY=REGEX"),
    ("filters: {all: {keep: [{tag: '=prod'}]}}",
     "config key 'filters.all.keep[0]' (from {file}): tag: '=prod' names no tag key; write KEY or KEY=VALUE"),
    ("filters: {all: {keep: [{ids: vol-1}]}}",
     "config key 'filters.all.keep[0]' (from {file}): ids: 'vol-1' is not a list"),
    ("filters: {all: {keep: [{ids: []}]}}",
     "config key 'filters.all.keep[0]' (from {file}): ids: [] is not a list of ids or ARNs; "
     "write [vol-0abc, arn:aws:...]"),
    ("filters: {all: {keep: [{nmae: web-*}]}}",
     "config key 'filters.all.keep[0]' (from {file}): unknown condition 'nmae'; use tag, tag_regex, name, "
     "name_regex, id, id_regex, ids, older_than, newer_than"),
    ("filters: {all: {keep: [{}]}}",
     "config key 'filters.all.keep[0]' (from {file}): a rule is a mapping of one or more conditions (tag, tag_regex, "
     "name, name_regex, id, id_regex, ids, older_than, newer_than), not {{}}"),
    ("filters: {all: {keep: [owner]}}",
     "config key 'filters.all.keep[0]' (from {file}): a rule is a mapping of one or more conditions (tag, "
     "tag_regex, name, name_regex, id, id_regex, ids, older_than, newer_than), not 'owner'"),
    ("filters: {all: {keep: {tag: owner}}}",
     "config key 'filters.all.keep' (from {file}): must be of list type"),
    ("filters: {all: {kept: []}}", "config key 'filters.all' (from {file}): unknown key 'kept'; allowed: keep, select"),
    ("filters: {ec3: {keep: []}}",
     "config key 'filters.ec3' (from {file}): 'ec3' is not 'all', a service or a type CostCutter can clean; "
     "use 'all' or names like ec2, s3 or a type like ec2.instances (see `costcutter services`)"),
    ("filters: [{tag: owner}]", "config key 'filters' (from {file}): must be of dict type, got [{{'tag': 'owner'}}]"),
    ("protect_tag: ''", "config key 'protect_tag' (from {file}): empty values not allowed, got ''"),
])
def test_bad_filter_rules_are_one_line_naming_where_they_are(tmp_path, yaml_text, message):
    file = write(tmp_path / "bad.yaml", yaml_text + "\n")
    with pytest.raises(config.ConfigError) as error:
        config.load(file)
    assert str(error.value) == message.format(file=file)


def test_a_bad_rule_in_the_environment_is_named_by_its_variable():
    with pytest.raises(config.ConfigError) as error:
        config.load(environ={"COSTCUTTER_FILTERS": "{all: {select: [{older_than: soon}]}}"})
    assert str(error.value) == ("config key 'filters.all.select[0]' (from COSTCUTTER_FILTERS): older_than: 'soon' "
                                f"is not a duration; {DURATION_HINT}")


def test_filters_of_every_layer_add_up_and_a_run_keeps_them(tmp_path):
    file = write(tmp_path / "c.yaml", "filters: {all: {keep: [{tag: owner}]}, ec2: {select: [{name: ci-*}]}}\n"
                                      "protect_tag: do-not-delete\n")
    settings = config.load(file, {"filters": {"all": {"keep": [{"ids": ["vol-1"]}], "select": [{"older_than": "7d"}]}}},
                           environ={"COSTCUTTER_FILTERS": "{ec2: {keep: [{tag: env=prod}]}}"})
    assert settings.filters == {"all": {"keep": [{"tag": "owner"}, {"ids": ["vol-1"]}], "select": [{"older_than": "7d"}]},
                                "ec2": {"select": [{"name": "ci-*"}], "keep": [{"tag": "env=prod"}]}}
    assert settings.type_settings()["filters"] == settings.filters  # what the engine is handed
    assert settings.type_settings()["protect_tag"] == "do-not-delete"
    assert config.restore(settings.to_dict()) == settings           # a resumed run uses the filters it started with
    assert config.restore({}).filters == {} and config.restore({}).protect_tag == "costcutter:protect"


def test_an_empty_filters_key_filters_nothing(tmp_path):
    file = write(tmp_path / "c.yaml", "filters:\n  # nothing yet\n")
    assert config.load(file).filters == {}
