"""Meta-tests over the command line's own registry of commands (click's): every command,
subcommands included, has a help text, answers --help, and is documented in the README."""

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from costcutter.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))


COMMANDS = list(command_paths(cli))


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS])
def test_every_command_has_help_and_is_in_the_readme(path, command):
    assert (command.help or "").strip(), "no help text"
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="costcutter")
    assert result.exit_code == 0, result.output
    assert f"Usage: costcutter {' '.join(path)}" in result.output
    assert f"costcutter {' '.join(path)}" in README
