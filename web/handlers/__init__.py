"""Route lists: ``PUBLIC`` needs no sign-in, ``MEMBER`` sits behind ``requires_member`` and ``no-store``."""

from web.handlers import auth, history, home, settings, simulator, system

PUBLIC = [*system.ROUTES, *auth.ROUTES, *simulator.ROUTES]
MEMBER = [*home.ROUTES, *history.ROUTES, *settings.ROUTES, *simulator.MEMBER_ROUTES]
BENCH = system.BENCH
