"""ご返済: the form (three choices, points, a live preview), the confirm page, the payment and its result.

GET pages change nothing: the confirm page only puts a fresh key into its form. ``POST
/repayments/confirm`` pays once per key (a double tap, a retry or a second tab gets the first result).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template

from db import repayments
from db.payment_gateway import PaymentDeclined
from domain.repayment import RepaymentError
from web import render

Now = NamedDependency[datetime]
Member = NamedDependency[dict]
Ctx = NamedDependency[repayments.RepayContext]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
NEW, CONFIRM, DONE = "pages/repay_new.html", "pages/repay_confirm.html", "pages/repay_done.html"
PREVIEW = "repayments/_preview.html"


@dataclass
class ConfirmForm:
    key: str = ""
    choice: str = ""
    amount: str = ""
    points: str = ""
    total: str = ""

    def repay_form(self) -> repayments.RepayForm:
        return repayments.RepayForm(self.choice[:10], self.amount[:40], self.points[:40])


async def _form_page(request: Request, member_id: int, now: datetime, ctx: repayments.RepayContext,
                     form: repayments.RepayForm, error: RepaymentError | PaymentDeclined | None = None) -> Template:
    view = await repayments.start(member_id, now, ctx)
    context = {"nav": "repay", "view": view, "form": form, "error": error,
               "error_field": getattr(error, "field", "")}
    return render.page(request, NEW, context, status=422 if error else 200)


@get("/repayments/new")
async def show_form(request: Request, member: Member, now: Now, repay_ctx: Ctx) -> Template:
    """ご返済: what is owed today, the three choices, points and the preview."""
    return await _form_page(request, member["id"], now, repay_ctx, repayments.RepayForm())


@get("/repayments/preview")
async def live_preview(request: Request, member: Member, now: Now, repay_ctx: Ctx, choice: FromQuery[str] = "due",
                       amount: FromQuery[str] = "", points: FromQuery[str] = "") -> Template:
    """The preview under the form, as the member chooses and types."""
    form = repayments.RepayForm(choice[:10], amount[:40], points[:40])
    try:
        _, preview = await repayments.prepare(member["id"], form, now, repay_ctx)
    except RepaymentError as error:
        return render.fragment(request, PREVIEW, {"preview": None, "error": error})
    return render.fragment(request, PREVIEW, {"preview": preview, "error": None})


@get("/repayments/confirm")
async def show_confirm(request: Request, member: Member, now: Now, repay_ctx: Ctx, choice: FromQuery[str] = "due",
                       amount: FromQuery[str] = "", points: FromQuery[str] = "") -> Template:
    """確認: the split, the balance after and what it saves; the form carries a fresh key."""
    form = repayments.RepayForm(choice[:10], amount[:40], points[:40])
    try:
        account, preview = await repayments.prepare(member["id"], form, now, repay_ctx)
    except RepaymentError as error:
        return await _form_page(request, member["id"], now, repay_ctx, form, error)
    context = {"nav": "repay", "preview": preview, "account": account, "form": form, "key": repayments.new_key()}
    return render.page(request, CONFIRM, context)


@post("/repayments/confirm")
async def confirm(request: Request, member: Member, now: Now, repay_ctx: Ctx,
                  data: Annotated[ConfirmForm, FORM]) -> Template:
    """Pay: once per confirm form, whatever the number of taps, retries or tabs."""
    try:
        repayment_id = await repayments.pay(member["id"], data.key, data.repay_form(), data.total, now, repay_ctx)
    except (RepaymentError, PaymentDeclined) as error:
        return await _form_page(request, member["id"], now, repay_ctx, data.repay_form(), error)
    done = await repayments.result(member["id"], repayment_id)
    return render.page(request, DONE, {"nav": "repay", "done": done}, trigger="money-moved",
                       push_url=f"/repayments/{repayment_id}")


@get("/repayments/{repayment_id:int}")
async def show_done(request: Request, member: Member, repayment_id: FromPath[int]) -> Template:
    """A finished repayment: the member's own only; anyone else's is simply not found."""
    done = await repayments.result(member["id"], repayment_id)
    if done is None:
        raise NotFoundException("ご返済の記録が見つかりません。")
    return render.page(request, DONE, {"nav": "repay", "done": done})


ROUTES = [show_form, live_preview, show_confirm, confirm, show_done]
