"""振込先口座: the account instant-transfer borrowings are paid to. Seeing and changing it needs a step-up."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from db import banks, payees
from domain.transfers import PayeeFieldErrors
from web import render
from web.guards import requires_step_up

PAGE = "pages/payee.html"
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


@get("/settings/payee", guards=[requires_step_up])
async def show_payee(request: Request, member: NamedDependency[dict]) -> Template:
    """The registered account (if any) and the form to register or change it."""
    current = await payees.current(member["id"])
    context = {"nav": "settings", "payee": current, "banks": await banks.all_banks(), "form": None, "errors": {}}
    return render.page(request, PAGE, context)


@post("/settings/payee", guards=[requires_step_up])
async def save_payee(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                     data: Annotated[payees.PayeeForm, FORM]) -> Template:
    """Register or change the account; the member gets a mail about it."""
    settings = request.app.state.settings
    context = {"nav": "settings", "banks": await banks.all_banks(), "form": data}
    try:
        payee = await payees.register(member["id"], data, now=now, policy=settings.transfer_policy(),
                                      app_name=settings.app_name, phone=settings.lender_phone)
    except PayeeFieldErrors as error:
        current = await payees.current(member["id"])
        return render.page(request, PAGE, {**context, "payee": current, "errors": error.errors}, status=422)
    return render.page(request, PAGE, {**context, "payee": payee, "saved": True, "form": None, "errors": {}})


ROUTES = [show_payee, save_payee]
