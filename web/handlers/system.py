"""Routes every visitor and every monitor needs: health, manifest, service worker, offline page."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.datastructures import CacheControlHeader
from litestar.response import Template

from db import engine
from web import maintenance, render
from web.assets import PRECACHE, asset, release
from web.guards import requires_member

EXEMPT = {"maintenance": "exempt"}  #: stays up during maintenance windows


@get("/healthz", opt=EXEMPT, cache_control=CacheControlHeader(no_store=True))
async def health() -> Response:
    """Load balancers see 200 when the database answers, 503 otherwise."""
    ok = await engine.ping()
    return Response({"status": "ok" if ok else "down"}, status_code=200 if ok else 503)


@get("/manifest.webmanifest", opt=EXEMPT, media_type="application/manifest+json",
     cache_control=CacheControlHeader(max_age=3600, public=True))
async def manifest(request: Request) -> Template:
    """The web app manifest, with icon URLs that carry their content hash."""
    settings = request.app.state.settings
    return Template("system/manifest.webmanifest", context={"settings": settings, "asset": asset},
                    media_type="application/manifest+json")


@get("/sw.js", opt=EXEMPT, media_type="text/javascript",
     cache_control=CacheControlHeader(no_cache=True))
async def service_worker() -> Template:
    """The service worker, served from the root so that its scope is the whole app."""
    urls = [asset(name) for name in PRECACHE]
    return Template("system/sw.js", context={"release": release(), "precache": urls},
                    media_type="text/javascript", headers={"Service-Worker-Allowed": "/"})


@get("/offline", opt=EXEMPT)
async def offline(request: Request) -> Template:
    """What the service worker shows when the network is gone; holds no member data."""
    return render.page(request, "pages/offline.html", {"public_page": True})


@get("/maintenance", opt=EXEMPT, cache_control=CacheControlHeader(no_store=True))
async def maintenance_page(request: Request, now: NamedDependency[datetime]) -> Template:
    """メンテナンスのお知らせ: when service resumes (during a window) and the windows ahead."""
    context = await maintenance.page_context(now, request.app.state.settings)
    return render.page(request, "pages/maintenance.html", context)


@get("/_bench/floor", opt=EXEMPT, media_type="text/plain")
async def bench_floor() -> str:
    """The framework floor for benchmarks: a trivial route on the same server (only with KAIIN_BENCH_ROUTES)."""
    return "ok"


ROUTES = [health, manifest, service_worker, offline, maintenance_page]
@get("/_bench/gated", media_type="text/plain")
async def bench_gated() -> str:
    """The floor again, but not exempt: its cost over the floor is the maintenance gate's (KAIIN_BENCH_ROUTES)."""
    return "ok"


@get("/_bench/member", media_type="text/plain", guards=[requires_member],
     cache_control=CacheControlHeader(no_store=True, private=True))
async def bench_member() -> str:
    """The floor behind what every member route pays (the gate, the session, the member guard): what a member
    piece could reach if its own work cost nothing (KAIIN_BENCH_ROUTES)."""
    return "ok"


BENCH = [bench_floor, bench_gated, bench_member]
