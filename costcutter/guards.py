"""Account guards: which AWS accounts CostCutter may sweep at all (config key `accounts`).

They are checked once the credentials' account is known and before anything is listed,
recorded or deleted: for a real run, a dry run and a resume alike, and `--yes` never
skips them. A refusal says which guard refused and how to change it.
"""

import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import Future

import botocore.exceptions

from costcutter import aws
from costcutter.config import Settings


class AccountRefused(Exception):
    """The account may not be swept; the message says which guard and how to change it."""


@dataclasses.dataclass(frozen=True)
class Account:
    id: str
    alias: str | None  # the account's IAM alias; None when it has none, or it could not be read


def identified(session, *reads: Callable) -> tuple:
    """The credentials' account id (aws.account_id), the reading of the account's alias (for
    checked_account), and the reading of each of `reads` (functions of the session, such as
    the enabled regions), all asked at the same time once the credentials are resolved: none
    needs another's answer, and each takes a round trip to AWS. The readings are Futures."""
    readings = []
    account_id = aws.account_id(session, alongside=lambda: readings.extend(
        _in_background(read, session) for read in (_alias, *reads)))
    return (account_id, *readings)


def checked_account(session, account_id: str, *guarded_by: Settings, alias_read: Future | None = None) -> Account:
    """The account, with its alias (read now, unless identified's `alias_read` reads it),
    once the guards of every one of these settings let it be swept; raises AccountRefused."""
    for settings in guarded_by:
        _check_lists(account_id, settings)
    alias, unreadable = alias_read.result() if alias_read is not None else _alias(session)
    for settings in guarded_by:
        _check_alias(account_id, alias, unreadable, settings)
    return Account(account_id, alias)


def _check_lists(account_id: str, settings: Settings) -> None:
    accounts, where = settings.accounts, _where(settings)
    if account_id in accounts["deny"]:
        raise AccountRefused(f"refusing account {account_id}: it is in accounts.deny (from {where}); "
                             "remove it from there to sweep it")
    if accounts["allow"] is not None and account_id not in accounts["allow"]:
        raise AccountRefused(f"refusing account {account_id}: it is not in accounts.allow (from {where}: "
                             f"{', '.join(accounts['allow'])}); add it there to sweep it")


def _check_alias(account_id: str, alias: str | None, unreadable: str | None, settings: Settings) -> None:
    accounts, where = settings.accounts, _where(settings)
    terms = accounts["blocked_alias_terms"]
    if not terms or account_id in (accounts["allow"] or ()):
        return
    if unreadable:
        raise AccountRefused(f"refusing account {account_id}: its alias cannot be read ({unreadable}) to check it "
                             f"against accounts.blocked_alias_terms (from {where}); allow iam:ListAccountAliases, "
                             "or add the account to accounts.allow")
    blocked = [term for term in terms if alias and term.lower() in alias.lower()]
    if blocked:
        raise AccountRefused(f"refusing account {account_id}: its alias {alias!r} contains {blocked[0]!r}, a term in "
                             f"accounts.blocked_alias_terms (from {where}); add the account to accounts.allow to "
                             "sweep it anyway")


def _alias(session) -> tuple[str | None, str | None]:
    """(the account's alias or None, why it could not be read or None). An account has one
    alias at most."""
    iam = aws.client(session, "iam", aws.home_region(session))
    try:
        aliases = iam.list_account_aliases()["AccountAliases"]
    except botocore.exceptions.ClientError as error:
        return None, aws.error_code(error)
    return (aliases[0] if aliases else None), None


def _in_background(function, *args) -> Future:
    """function(*args) in a daemon thread: one that fails slowly (retried against an endpoint
    that refuses) never holds up the exit of a command that no longer needs its answer."""
    future = Future()

    def run():
        try:
            future.set_result(function(*args))
        except BaseException as error:  # handed over to whoever asks for the result
            future.set_exception(error)

    threading.Thread(target=run, name=getattr(function, "__name__", "reading"), daemon=True).start()
    return future


def _where(settings: Settings) -> str:
    # Settings restored from a run's record carry no sources.
    return settings.sources.get("accounts", "the configuration the run started with")
