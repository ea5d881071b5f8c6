"""Shell completion (click's, for bash, zsh and fish) of what CostCutter knows offline:
services and types from the registry, regions from botocore's endpoint data, run ids from
the event log. Commands and options click completes by itself.

A completion runs at every Tab: it never writes, never reaches AWS, and never fails (a
missing or locked event log completes nothing).
"""

import logging

from click.shell_completion import CompletionItem

from costcutter import aws, config, registry
from costcutter.store import EventStore

log = logging.getLogger(__name__)


def _last_of_list(incomplete: str) -> tuple[str, str]:
    """`--region us-east-1,eu-w` completes the name after the last comma, keeping the ones before it."""
    done, _, last = incomplete.rpartition(",")
    return (done + "," if done else ""), last


def _names(names, incomplete: str, help_of=None) -> list[CompletionItem]:
    before, last = _last_of_list(incomplete)
    return [CompletionItem(before + name, help=help_of(name) if help_of else None)
            for name in sorted(names) if name.startswith(last)]


def regions(ctx, param, incomplete: str) -> list[CompletionItem]:
    return _names(aws.known_regions(), incomplete)


def regions_or_all(ctx, param, incomplete: str) -> list[CompletionItem]:
    return ([CompletionItem("all")] if "all".startswith(incomplete) else []) + regions(ctx, param, incomplete)


def services(ctx, param, incomplete: str) -> list[CompletionItem]:
    summaries = {t.key: t.summary for t in registry.resource_types()}
    return _names([*registry.service_names(), *registry.type_keys()], incomplete, summaries.get)


def run_ids(ctx, param, incomplete: str) -> list[CompletionItem]:
    """The runs of the event log the command line names so far (--db, --config), newest first."""
    try:
        settings = config.load(ctx.params.get("config_file"), {"database": ctx.params.get("db")})
        with EventStore(settings.database_path, read_only=True) as store:
            rows = list(store.db.query("SELECT id, created_at, dry_run FROM runs ORDER BY created_at, rowid"))
    except Exception:  # noqa: BLE001 - a Tab must never print a traceback; there is nothing to complete
        log.debug("no run ids to complete", exc_info=True)
        return []
    return [CompletionItem(row["id"], help=f"{row['created_at'][:19].replace('T', ' ')} "
                                           f"{'dry run' if row['dry_run'] else 'real'}")
            for row in reversed(rows) if row["id"].startswith(incomplete)]
