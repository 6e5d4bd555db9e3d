"""Dependencies handlers ask for by name."""

from __future__ import annotations

from datetime import datetime

from litestar import Request
from litestar.exceptions import NotAuthorizedException

from db import accounts
from db.holidays import business_calendar
from db.payment_gateway import gateway_for
from db.repayments import RepayContext


async def provide_member(request: Request) -> dict:
    """The signed-in member's row (member routes only; the guard has checked the session)."""
    member = await accounts.member_by_id(int(request.session["member_id"]))
    if member is None or member["status"] == "suspended":
        request.clear_session()
        raise NotAuthorizedException("ログインしてください。")
    return member


def provide_now(request: Request) -> datetime:
    """Aware UTC now, from the app's clock (KAIIN_CLOCK in dev and tests)."""
    return request.app.state.clock.now()


def repay_context(settings) -> RepayContext:
    """The repayment use cases' settings: policies, the business calendar and the payment gateway."""
    loan = settings.loan_policy()
    return RepayContext(
        loan=loan, repay=settings.repayment_policy(), calendar=business_calendar(loan),
        gateway=gateway_for(settings.payment_gateway),
    )


def provide_repay_context(request: Request) -> RepayContext:
    return request.app.state.repayments
