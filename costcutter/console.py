"""What the command line says and where: -q/--quiet, -v/--verbose, --log-level and
--output, given on the group (`costcutter -v run`) or on a command (`costcutter run -v`).

In text mode, results go to stdout and progress to stderr. With `--output json`, stdout
carries one JSON document and nothing else, for machines; every line meant for a person
goes to stderr.
"""

import dataclasses
import json

import click

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_KEY = "costcutter.console"


@dataclasses.dataclass
class Console:
    quiet: bool = False
    verbose: int = 0
    log_level: str | None = None
    output: str = "text"

    @property
    def json(self) -> bool:
        return self.output == "json"

    @property
    def effective_log_level(self) -> str | None:
        """--log-level, else INFO for -v and DEBUG for -vv, else None (the configuration decides)."""
        if self.log_level or not self.verbose:
            return self.log_level
        return "DEBUG" if self.verbose > 1 else "INFO"

    def info(self, text: str = "") -> None:
        """A line for a person about how things go (headings, hints); -q leaves it out."""
        if not self.quiet:
            click.echo(text, err=self.json)

    def result(self, text: str = "") -> None:
        """What a command found or did, for a person; in JSON mode it goes to stderr."""
        click.echo(text, err=self.json)

    def warn(self, text: str) -> None:
        click.echo(f"Warning: {text}", err=True)

    def document(self, document) -> None:
        """The one JSON document of --output json, on stdout."""
        click.echo(json.dumps(document, indent=2, default=str))


def current() -> Console:
    """The console of this invocation, as its options set it."""
    ctx = click.get_current_context(silent=True)
    return Console() if ctx is None else ctx.meta.setdefault(_KEY, Console())


def _setting(attribute: str, convert=lambda value: value):
    """A callback that records a given option on the console. Given on the group and again
    on the command, the later one wins; an option left at its default changes nothing."""
    def callback(ctx, param, value):
        if value not in (None, False, 0):
            setattr(ctx.meta.setdefault(_KEY, Console()), attribute, convert(value))
        return value
    return callback


def _more_verbose(ctx, param, value):
    """-v on the group and -v on the command add up, as -vv."""
    console = ctx.meta.setdefault(_KEY, Console())
    console.verbose += value
    return value


def verbosity_options(command):
    """-q/--quiet, -v/--verbose, --log-level; for the group and every command."""
    command = click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), expose_value=False,
                           callback=_setting("log_level", str.upper),
                           help="Level of the diagnostic log (and of what -v shows).")(command)
    command = click.option("-v", "--verbose", count=True, expose_value=False, callback=_more_verbose,
                           help="Also show the diagnostic log on stderr (INFO; -vv for DEBUG).")(command)
    command = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_setting("quiet"),
                           help="No live view, status lines or hints: results and errors only.")(command)
    return command


def output_option(command):
    """--output text|json, for the commands whose results a machine may read."""
    return click.option("--output", type=click.Choice(("text", "json")), expose_value=False, callback=_setting("output"),
                        help="`json`: one JSON document on stdout, and the text for people on stderr.")(command)
