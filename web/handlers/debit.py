"""口座振替 (automatic debit): the registered account and the form to register or change it.

Seeing and changing it needs a step-up (``requires_step_up``); every change mails the member. Bad input
comes back with Japanese messages on the fields, status 422, and nothing changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from db import banks, debits
from db.repayments import RepayContext
from domain.repayment import RepaymentError
from domain.transfers import PayeeFieldErrors
from web import render
from web.guards import requires_step_up

PAGE = "pages/debit.html"
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
Now = NamedDependency[datetime]
Member = NamedDependency[dict]
Ctx = NamedDependency[RepayContext]


async def _context(member_id: int, now: datetime, ctx: RepayContext, **more: Any) -> dict[str, Any]:
    view = await debits.view(member_id, now, ctx)
    return {"nav": "settings", "view": view, "banks": await banks.all_banks(), "form": None, "errors": {},
            "instant_banks": await banks.names(ctx.repay.debit_instant_banks), **more}


def notice_context(request: Request) -> debits.NoticeContext:
    settings = request.app.state.settings
    return debits.NoticeContext(settings.transfer_policy(), settings.app_name, settings.lender_phone)


@get("/repayments/debit", guards=[requires_step_up])
async def show_debit(request: Request, member: Member, now: Now, repay_ctx: Ctx) -> Template:
    """The account in force (and one still pending), the rules by bank, and the form."""
    return render.page(request, PAGE, await _context(member["id"], now, repay_ctx))


@post("/repayments/debit", guards=[requires_step_up])
async def save_debit(request: Request, member: Member, now: Now, repay_ctx: Ctx,
                     data: Annotated[debits.DebitForm, FORM]) -> Template:
    """Register or change the account; the member gets a mail about it."""
    try:
        done = await debits.register(member["id"], data, now=now, ctx=repay_ctx, notice=notice_context(request))
    except (PayeeFieldErrors, RepaymentError) as error:
        errors = getattr(error, "errors", None) or {"": error.message}
        context = await _context(member["id"], now, repay_ctx, form=data, errors=errors)
        return render.page(request, PAGE, context, status=422)
    return render.page(request, PAGE, await _context(member["id"], now, repay_ctx, saved=done))


ROUTES = [show_debit, save_debit]
