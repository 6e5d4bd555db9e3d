"""Every error becomes a Japanese page (or fragment, for htmx), with the security headers; no stack traces."""

from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException

from web import filters, maintenance, render

log = logging.getLogger("kaiin.errors")

MESSAGES = {
    400: ("入力内容を確認してください", "送信された内容を受け付けられませんでした。入力内容を確認して、もう一度お試しください。"),
    403: ("この操作は受け付けられません", "画面の有効期限が切れたか、別の画面からの送信です。ページを読み込み直して、もう一度お試しください。"),
    404: ("ページが見つかりません", "お探しのページは移動したか、存在しません。"),
    405: ("この操作は受け付けられません", "このページではその操作はできません。"),
    413: ("送信内容が大きすぎます", "入力内容を短くして、もう一度お試しください。"),
    429: ("しばらくお待ちください", "短い時間に多くの操作がありました。時間をおいてから、もう一度お試しください。"),
    500: ("ただいま表示できません", "システムで問題が発生しました。時間をおいてから、もう一度お試しください。"),
    503: ("ただいまご利用いただけません", "時間をおいてから、もう一度お試しください。"),
}


def error_page(request: Request, status: int, detail: str = "", headers: dict[str, str] | None = None) -> Response:
    title, text = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    context = {"title": title, "text": detail or text, "status": status}
    return render.page(request, "pages/error.html", context, status=status, headers=headers)


def handle_http_error(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, NotAuthorizedException):
        expired = isinstance(exc.extra, dict) and exc.extra.get("expired")
        target = "/login?expired=1" if expired else f"/login?next={quote(request.url.path)}"
        return render.redirect(request, target)
    detail = ""
    if isinstance(exc, ValidationException):
        detail = MESSAGES[400][1]
    elif exc.status_code in (429, 503) and exc.detail and not exc.detail.isascii():
        detail = exc.detail
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "retry-after"}
    return error_page(request, exc.status_code, detail, headers)


def handle_maintenance(request: Request, exc: maintenance.MaintenanceUnderway) -> Response:
    """In a window: htmx is sent whole-page to /maintenance; anything else gets the 503 page here."""
    headers = {"Retry-After": str(exc.status.retry_after)}
    if render.is_htmx(request):
        return render.whole_page_to(request, "/maintenance", status=503, headers=headers)
    window = maintenance.describe(exc.status.active, exc.status.now)
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:  # fetch() callers (passkeys)
        text = f"ただいまメンテナンス中です。{filters.jdate(window['end'])} {filters.jtime(window['end'])} に再開する予定です。"
        return Response({"detail": text, "resume_at": window["end"].isoformat()}, status_code=503, headers=headers)
    context = {"window": window, "public_page": True}
    return render.page(request, "pages/maintenance.html", context, status=503, headers=headers)


def handle_server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_page(request, 500)
