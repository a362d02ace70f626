"""Sign-ups never confirmed: let go of once their grace is over.

With ``SIGNUP_CONFIRMATION`` on, a sign-up reserves its username and email and stores an
invisible profile until the emailed code confirms it. Past ``confirm_by`` (the sign-up plus
``SIGNUP_CONFIRMATION_GRACE_SECONDS``) a newer sign-up may take either name over
(``users/repository.py`` ``reserve_names``), and every hour (``app.py`` schedules it)
``sweep`` removes what is left of each such account, in an order that a crash anywhere
leaves safe to resume:

1. its reservations still its own are held (pending, under its id), so no sign-up takes
   them and no confirmation completes while it goes (``hold_for_removal``);
2. holding its username, the Cognito user of that name is deleted: no other sign-up can be
   registered under a name the account holds. A newer sign-up that took the name over has
   deleted it already;
3. the held reservations are deleted;
4. the profile last: until then the account stays in the sparse index the sweep reads, so
   the next run finds it again.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.auth import cognito
from chalicelib.core.clock import epoch_seconds
from chalicelib.core.observability import logger, metrics
from chalicelib.users import repository as users
from chalicelib.users.domain import UnconfirmedAccount

# Each removal is a few calls (about 50 ms); the rest wait for the next run.
MAX_REMOVALS_PER_RUN = 200


def sweep(now: datetime) -> int:
    """Remove the accounts still unconfirmed past their grace; returns how many."""
    accounts = users.unconfirmed_past(now, MAX_REMOVALS_PER_RUN)
    for account in accounts:
        let_go(account, now)
        users.delete_unconfirmed_user(account.user_id)
        logger.info("unconfirmed sign-up removed", user_id=account.user_id)
    if accounts:
        metrics.add_metric(name="UnconfirmedSignUpsRemoved", unit="Count", value=len(accounts))
    return len(accounts)


def let_go(account: UnconfirmedAccount, now: datetime) -> None:
    """Steps 1 to 3: the account's names and its Cognito user; idempotent. The profile,
    invisible, is left for ``sweep`` to delete."""
    held = users.hold_for_removal(account, epoch_seconds(now))
    if "username" in held:
        cognito.remove_if_present(account.username)
    users.release_held(account)
