"""The application factory."""

from __future__ import annotations

import gc
import logging
import warnings
from typing import Any, Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.logging import LoggingConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from db import engine
from db.hashing import SecretHasher
from web import auth_flow, charts, errors, filters, handlers
from web.history_rows import history_piece
from web import home_summary
from web.assets import STATIC_DIR, asset
from web.clock import Clock
from web.deps import (
    provide_member, provide_now, provide_repay_context, provide_transfer_context, repay_context, simulator_context,
    transfer_context,
)
from web.guards import StepUpRequired, guards_get_their_handler, requires_member
from web.mail import MailSender
from web.maintenance import GateMemo, MaintenanceGate, MaintenanceUnderway
from web.security import (
    SESSION_STORE,
    AllowedHostsMiddleware,
    csrf_config,
    origin_check_hook,
    security_headers_hook,
    session_config,
    session_store,
)
from web.settings import ROOT, Settings
from web.throttle import Refusals, throttle_store
from web.timing import ServerTimingMiddleware

PARTIALS = ROOT / "web" / "partials"


def create_app(settings: Settings | None = None, *, extra_route_handlers: Sequence[Any] = ()) -> Litestar:
    """Build the app for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    clock = Clock(settings.clock)
    engine.configure(settings.database_url, root=ROOT, pool_max=settings.db_pool_max)
    sessions = session_config(settings)

    member_router = Router(
        path="/",
        route_handlers=handlers.MEMBER,
        guards=[requires_member],
        cache_control=CacheControlHeader(no_store=True, private=True),
        dependencies={"member": Provide(provide_member),
                      "repay_ctx": Provide(provide_repay_context, sync_to_thread=False),
                      "transfer_ctx": Provide(provide_transfer_context, sync_to_thread=False)},
    )
    static_router = create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(max_age=31536000, public=True, immutable=True),
        opt={"maintenance": "exempt"},
        include_in_schema=False,
    )
    bench = handlers.BENCH if settings.bench_routes else []
    dev_only = handlers.DEV if settings.env == "dev" else []
    with warnings.catch_warnings():
        # The compression exclude pattern matches "/" on purpose (only static files are compressed).
        warnings.filterwarnings("ignore", message=".*CompressionMiddleware.*exclude pattern")
        app = Litestar(
            route_handlers=[*handlers.PUBLIC, member_router, static_router, *bench, *dev_only, *extra_route_handlers],
            template_config=TemplateConfig(instance=_templates(settings)),
            csrf_config=csrf_config(settings),
            # Static files only: HTML carries the CSRF token next to echoed input (BREACH); it is small anyway.
            compression_config=CompressionConfig(backend="gzip", minimum_size=1024, exclude=r"^/(?!static/|sw\.js)"),
            middleware=[
                ServerTimingMiddleware(), AllowedHostsMiddleware(settings.allowed_hosts), MaintenanceGate(),
                sessions.middleware,
            ],
            stores={SESSION_STORE: session_store(settings)},
            before_send=[security_headers_hook(settings)],
            before_request=origin_check_hook(settings),
            exception_handlers={
                MaintenanceUnderway: errors.handle_maintenance,
                HTTPException: errors.handle_http_error,
                StepUpRequired: auth_flow.handle_step_up_required,
                Exception: errors.handle_server_error,
            },
            dependencies={"now": Provide(provide_now, sync_to_thread=False)},
            state=State({
                "settings": settings, "clock": clock, "session_key": sessions.key, "hasher": hasher(settings),
                "auth_policy": settings.auth_policy(), "credential_policy": settings.credential_policy(),
                "code_key": auth_flow.code_key(settings), "throttle": throttle_store(settings), "refusals": Refusals(),
                "mailer": MailSender(settings),
                "repayments": repay_context(settings),
                "transfers": transfer_context(settings), "passkey_policy": settings.passkey_policy(),
                "simulator": simulator_context(settings),
                "maintenance": GateMemo(settings.maintenance_policy()),
            }),
            after_response=auth_flow.deliver_mail,
            on_startup=[engine.start],
            on_shutdown=[engine.stop],
            logging_config=LoggingConfig(log_exceptions="never", disable_stack_trace={404, 405, 403, 401, 400, 429, 503}),
            openapi_config=None,
            debug=False,
        )
    guards_get_their_handler(app)
    return app


def create_served_app(settings: Settings | None = None, *, extra_route_handlers: Sequence[Any] = ()) -> Litestar:
    """What ``kaiin serve`` runs (each worker process): the app, and once it has started, everything alive
    (modules, app, routes, templates) moved out of the garbage collector's way with ``gc.freeze()``. A full
    collection then walks only what requests created since, instead of stopping a request for tens of
    milliseconds to re-check objects that live as long as the process. Not in tests: they build many apps."""
    app = create_app(settings, extra_route_handlers=extra_route_handlers)
    app.on_startup.append(_freeze_startup_objects)
    return app


def _freeze_startup_objects() -> None:
    gc.collect()
    gc.freeze()


def _templates(settings: Settings) -> JinjaTemplateEngine:
    env = Environment(
        loader=FileSystemLoader(PARTIALS),
        autoescape=True,
        undefined=StrictUndefined,
        auto_reload=settings.env == "dev",
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(asset=asset, settings=settings, history_piece=history_piece, home_summary=home_summary.summary,
                       **charts.TEMPLATE_GLOBALS)
    env.filters.update(filters.FILTERS)
    return JinjaTemplateEngine.from_environment(env)


def hasher(settings: Settings) -> SecretHasher:
    return SecretHasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
