"""お借入れ（振込）: the amount form with a live check, the confirm page, the confirm step and the receipt.

GET pages change nothing: the confirm page only seals what it shows into its form. The one POST is
the confirm step, behind a fresh step-up; it answers a repeated form with the first receipt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template

from db import transfers
from domain.transfers import TransferError
from web import auth_flow, render
from web.guards import requires_step_up

Now = NamedDependency[datetime]
Member = NamedDependency[dict]
Ctx = NamedDependency[transfers.TransferContext]
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
NEW, CONFIRM, RECEIPT = "pages/transfer_new.html", "pages/transfer_confirm.html", "pages/transfer_receipt.html"


@get("/transfers/new")
async def show_form(request: Request, member: Member, now: Now, transfer_ctx: Ctx) -> Template:
    """The amount form: the available credit, quick picks and the payee account."""
    quote = await transfers.quote(member["id"], None, now, transfer_ctx)
    return render.page(request, NEW, {"nav": "borrow", "quote": quote, "amount": ""})


@get("/transfers/check")
async def check_amount(request: Request, member: Member, now: Now, transfer_ctx: Ctx,
                       amount: FromQuery[str] = "") -> Template:
    """The live check under the amount field, as the member types."""
    try:
        quote = await transfers.quote(member["id"], amount, now, transfer_ctx)
    except TransferError as error:
        return render.fragment(request, "transfers/_check.html", {"error": error.message, "quote": None})
    return render.fragment(request, "transfers/_check.html", {"error": "", "quote": quote})


@get("/transfers/confirm")
async def show_confirm(request: Request, member: Member, now: Now, transfer_ctx: Ctx,
                       amount: FromQuery[str] = "") -> Template:
    """確認: amount, account, arrival and the amount due it sets; the form carries a fresh key."""
    try:
        quote = await transfers.quote(member["id"], amount, now, transfer_ctx)
    except TransferError as error:
        base = await transfers.quote(member["id"], None, now, transfer_ctx)
        context = {"nav": "borrow", "quote": base, "amount": amount[:40], "error": error.message}
        return render.page(request, NEW, context, status=422)
    fields = transfers.new_confirm_fields(member["id"], quote.amount, quote.payee.id, now, transfer_ctx)
    context = {"nav": "borrow", "quote": quote, "form": fields, "stepped_up": auth_flow.stepped_up(request, now)}
    return render.page(request, CONFIRM, context)


@post("/transfers/confirm", guards=[requires_step_up])
async def confirm(request: Request, member: Member, now: Now, transfer_ctx: Ctx,
                  data: Annotated[transfers.ConfirmForm, FORM]) -> Template:
    """Borrow: one transfer per confirm form, whatever the number of taps, retries or tabs."""
    try:
        receipt = await transfers.request_transfer(member["id"], data, now, transfer_ctx)
    except TransferError as error:
        base = await transfers.quote(member["id"], None, now, transfer_ctx)
        context = {"nav": "borrow", "quote": base, "amount": data.amount[:40], "error": error.message}
        return render.page(request, NEW, context, status=422)
    return render.page(request, RECEIPT, {"nav": "borrow", "receipt": receipt}, trigger="money-moved",
                       push_url=f"/transfers/{receipt.transfer_no}")


@get("/transfers/{transfer_no:str}")
async def show_receipt(request: Request, member: Member, now: Now, transfer_no: FromPath[str]) -> Template:
    """受付票: the member's own transfer by number; anyone else's is simply not found."""
    receipt = await transfers.receipt(member["id"], transfer_no[:20], now)
    if receipt is None:
        raise NotFoundException("お振込みの記録が見つかりません。")
    return render.page(request, RECEIPT, {"nav": "borrow", "receipt": receipt})


ROUTES = [show_form, check_amount, show_confirm, confirm, show_receipt]
