"""Development helpers: the mail outbox. Not routed at all unless KAIIN_ENV=dev."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from db import mail
from web import render


@get("/dev/outbox")
async def show_outbox(request: Request) -> Template:
    """The newest mail kaiin has written, as a member would read it."""
    mails = await mail.newest(limit=50)
    return render.page(request, "pages/dev_outbox.html", {"mails": mails, "public_page": True})


ROUTES = [show_outbox]
