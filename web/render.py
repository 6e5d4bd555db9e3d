"""The only module that reads or writes htmx headers: full page or partial, redirects, client events."""

from __future__ import annotations

import html
import json
from collections import OrderedDict
from typing import Any, Callable

from litestar import Request, Response
from litestar.datastructures import Headers
from litestar.enums import MediaType
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

from web.maintenance import banner
from web.security import csp_nonce

FULL = "layout.html"
FRAGMENT = "_fragment.html"


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def wants_fragment(request: Request) -> bool:
    """A targeted htmx swap gets only the piece; navigation, boosts and history restores get the page."""
    return _wants_fragment(request.headers)


def _wants_fragment(headers: Headers) -> bool:
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-request-type", "partial") != "full"
        and headers.get("hx-boosted") != "true"
        and headers.get("hx-history-restore-request") != "true"
    )


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = HTTP_200_OK,
    trigger: str | None = None,
    headers: dict[str, str] | None = None,
    push_url: str | None = None,
) -> Template:
    """Render ``template`` as a full page, or as a fragment for a targeted htmx request.

    ``push_url`` puts that address in the browser's bar for an htmx request (e.g. the receipt's own
    page after a form post, so reloading it shows the receipt again instead of posting again).
    """
    base = FRAGMENT if wants_fragment(request) else FULL
    out_headers = {"Vary": "HX-Request, HX-Request-Type, HX-Boosted, HX-History-Restore-Request"}
    if trigger and is_htmx(request):
        out_headers["HX-Trigger"] = trigger
    if push_url and is_htmx(request):
        out_headers["HX-Push-Url"] = push_url
    out_headers.update(headers or {})
    ctx = {"base_template": base, "csp_nonce": csp_nonce(request.scope), "banner": banner(request.scope),
           **(context or {})}
    return Template(template, context=ctx, status_code=status, headers=out_headers, media_type=MediaType.HTML)


def fragment(request: Request, template: str, context: dict[str, Any] | None = None, **kwargs: Any) -> Response:
    """Render a piece (``area/_piece.html``) on its own, for htmx swaps and no-JS fallbacks alike.

    Rendered here rather than handed to Litestar as a ``Template``: the same context (``request``, from which
    the ``csrf_token()`` global reads, and ``csrf_input``), without the response's per-request template lookup
    and context copies; pieces are what htmx asks for most often."""
    ctx = {"request": request, "csrf_input": csrf_input(request), "csp_nonce": csp_nonce(request.scope),
           **(context or {})}
    headers = {"Vary": "HX-Request"}
    if (trigger := kwargs.pop("trigger", None)) and is_htmx(request):
        headers["HX-Trigger"] = trigger
    body = request.app.template_engine.get_template(template).render(**ctx)
    return Response(body, media_type=MediaType.HTML, headers=headers, status_code=kwargs.pop("status", HTTP_200_OK))


def built(markup: str, *, status: int = HTTP_200_OK) -> Response:
    """A piece already built as markup in Python (``web/home_summary.py``): sent as a fragment is."""
    return Response(markup, media_type=MediaType.HTML, headers={"Vary": "HX-Request"}, status_code=status)


def csrf_input(request: Request) -> str:
    """The hidden CSRF field, exactly as Litestar's ``Template`` response puts it in a template's context."""
    token = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
    return f'<input type="hidden" name="_csrf_token" value="{html.escape(token)}" />'


def targets(request: Request, element_id: str) -> bool:
    """True for an htmx request that will swap the element ``element_id`` (``HX-Target: tag#id``)."""
    headers = request.headers  # read once: each ``request.headers`` looks the parsed headers up in the scope again
    return _wants_fragment(headers) and headers.get("hx-target", "").endswith(f"#{element_id}")


class PieceMemo:
    """Rendered pieces remembered for immutable objects they were rendered from (least recently used
    first out). The object is kept with its HTML, so an ``id`` is never mistaken for a new object's."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[object, str | bytes]] = OrderedDict()

    def get(self, source: object, render: Callable[[], str | bytes]) -> str | bytes:
        key = id(source)
        found = self._items.get(key)
        if found is not None and found[0] is source:
            self._items.move_to_end(key)
            return found[1]
        body = render()
        if self.size > 0:
            self._items[key] = (source, body)
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return body


def piece_or_page(request: Request, piece: str, element_id: str, page_template: str, context: dict[str, Any],
                  *, status: int = HTTP_200_OK, headers: dict[str, str] | None = None,
                  memo: PieceMemo | None = None, source: object = None,
                  build: Callable[[], str | bytes] | None = None) -> Response:
    """``piece`` alone for an htmx swap of ``#element_id`` (live updates), else the whole page (no JS).

    With ``memo``, the piece rendered from the immutable ``source`` (the same for every visitor: nothing
    of a member's in it) is rendered once and sent again as it is; ``build``, when given, makes that
    piece's markup instead of the template (a piece where the template's own cost would be most of it)."""
    if targets(request, element_id):
        out_headers = {"Vary": "HX-Request, HX-Target", **(headers or {})}
        if memo is not None and source is not None:
            engine = request.app.template_engine
            body = memo.get(source, build or (lambda: engine.get_template(piece).render(**context, piece=True)))
            return Response(body, media_type=MediaType.HTML, status_code=status, headers=out_headers)
        response = fragment(request, piece, {**context, "piece": True}, status=status)
        response.headers.update(out_headers)
        return response
    return page(request, page_template, context, status=status, headers=headers)


def redirect(request: Request, url: str) -> Response:
    """Go to ``url``: a full navigation for htmx (``HX-Redirect``), a 303 for plain forms."""
    if is_htmx(request):
        return Response(content=b"", status_code=HTTP_200_OK, headers={"HX-Redirect": url})
    return Redirect(path=url, status_code=HTTP_303_SEE_OTHER)


def whole_page_to(request: Request, url: str, *, status: int, headers: dict[str, str] | None = None) -> Response:
    """For an htmx request: the status as is, and ``HX-Redirect`` so htmx loads ``url`` as the whole page."""
    return Response(content=b"", status_code=status, headers={**(headers or {}), "HX-Redirect": url})


def trigger_header(*events: str, **detailed: Any) -> str:
    """An ``HX-Trigger`` value for several events (names, or names with details)."""
    if not detailed:
        return ", ".join(events)
    return json.dumps({**{name: True for name in events}, **detailed}, ensure_ascii=False)


def current_page(request: Request) -> str:
    """The path of the page the request came from (htmx's ``HX-Current-URL``, else ``Referer``), or ''."""
    url = request.headers.get("hx-current-url") or request.headers.get("referer") or ""
    if "://" not in url:
        return ""
    path = "/" + url.split("://", 1)[1].partition("/")[2]
    return path
