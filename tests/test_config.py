"""Configuration: precedence of the layers, and one clear line for every kind of mistake."""

import pytest
from click.testing import CliRunner

from costcutter import config, registry
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
    assert settings.threads_per_subresource == 5     # environment over file
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
    assert settings.chosen_services() == [name for name in registry.service_names() if name != "s3"]
    assert "ec2" in settings.chosen_services()


@pytest.mark.parametrize("yaml_text, message", [
    ("regoins: all\n", "unknown config key 'regoins' (from {file}); allowed keys: dry_run, regions"),
    ("max_processes: four\n", "config key 'max_processes' (from {file}): must be of integer type, got 'four'"),
    ("max_processes: 0\n", "config key 'max_processes' (from {file}): min value is 1, got 0"),
    ("regions: [us-east-1, mars-north-1]\n", "config key 'regions' (from {file}): 'mars-north-1' is not a known AWS region"),
    ("services: [ec2, lambada]\n", "config key 'services' (from {file}): 'lambada' is not a service CostCutter can clean"),
    ("log_level: LOUD\n", "config key 'log_level' (from {file}): unallowed value LOUD"),
    ("regions: [us-east-1\n", "config file {file} is not valid YAML at line 2; fix its syntax"),
    ("- just\n- a list\n", "config file {file} must be a mapping of keys to values, not a list"),
])
def test_config_file_mistakes(tmp_path, yaml_text, message):
    file = write(tmp_path / "bad.yaml", yaml_text)
    with pytest.raises(config.ConfigError) as error:
        config.load(file)
    assert str(error.value).startswith(message.format(file=file))


@pytest.mark.parametrize("environ, message", [
    ({"COSTCUTTER_DRY_RUN": "maybe"}, "COSTCUTTER_DRY_RUN='maybe' is not a boolean; use true or false"),
    ({"COSTCUTTER_MAX_PROCESSES": "many"}, "COSTCUTTER_MAX_PROCESSES='many' is not a whole number"),
    ({"COSTCUTTER_REGION": "us-east-1"}, "unknown environment variable COSTCUTTER_REGION; allowed: "),
    ({"COSTCUTTER_REGIONS": "nowhere-1"}, "config key 'regions' (from COSTCUTTER_REGIONS): 'nowhere-1' is not"),
])
def test_environment_mistakes(environ, message):
    with pytest.raises(config.ConfigError) as error:
        config.load(environ=environ)
    assert str(error.value).startswith(message)


def test_a_missing_config_file_is_named():
    with pytest.raises(config.ConfigError, match="config file nowhere.yaml does not exist"):
        config.load("nowhere.yaml")


@pytest.mark.parametrize("args, message", [
    (["--region", "us-east-7"], "Error: config key 'regions' (from command line): 'us-east-7' is not a known AWS region"),
    (["--service", "ec3"], "Error: config key 'services' (from command line): 'ec3' is not a service"),
    (["--exclude-service", "all"], "Error: config key 'excluded_services' (from command line): 'all' is not a service"),
    (["--config", "missing.yaml"], "Error: config file missing.yaml does not exist"),
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
