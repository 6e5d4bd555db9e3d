"""Route lists: ``PUBLIC`` needs no sign-in, ``MEMBER`` sits behind ``requires_member`` and ``no-store``."""

from web.handlers import (
    auth, debit, dev, history, home, passkeys, payee, recover, repayments, settings, settings_account, simulator,
    step_up, system, transfers,
)

PUBLIC = [*system.ROUTES, *auth.ROUTES, *simulator.ROUTES, *recover.ROUTES, *passkeys.PUBLIC]
MEMBER = [
    *home.ROUTES, *history.ROUTES, *settings.ROUTES, *settings_account.ROUTES, *simulator.MEMBER_ROUTES, *step_up.ROUTES,
    *repayments.ROUTES, *transfers.ROUTES, *payee.ROUTES, *debit.ROUTES, *passkeys.MEMBER,
]
BENCH = system.BENCH
DEV = [*dev.ROUTES]  #: routed only when KAIIN_ENV=dev
