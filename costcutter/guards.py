"""Account guards: which AWS accounts CostCutter may sweep at all (config key `accounts`).

They are checked once the credentials' account is known and before anything is listed,
recorded or deleted: for a real run, a dry run and a resume alike, and `--yes` never
skips them. A refusal says which guard refused and how to change it.
"""

import dataclasses

import botocore.exceptions

from costcutter import aws
from costcutter.config import Settings


class AccountRefused(Exception):
    """The account may not be swept; the message says which guard and how to change it."""


@dataclasses.dataclass(frozen=True)
class Account:
    id: str
    alias: str | None  # the account's IAM alias; None when it has none, or it could not be read


def checked_account(session, account_id: str, *guarded_by: Settings) -> Account:
    """The account, with its alias, once the guards of every one of these settings let it
    be swept; raises AccountRefused."""
    for settings in guarded_by:
        _check_lists(account_id, settings)
    alias, unreadable = _alias(session)
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


def _where(settings: Settings) -> str:
    # Settings restored from a run's record carry no sources.
    return settings.sources.get("accounts", "the configuration the run started with")
