"""Dependencies handlers ask for by name."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException

from db import accounts
from db.bank_gateway import SimulatedBank
from db.holidays import business_calendar
from db.payment_gateway import gateway_for
from db.repayments import RepayContext
from db.transfers import TransferContext
from domain.business_days import BusinessCalendar
from domain.policy import LoanPolicy
from domain.simulator import OutcomeCache, SimulatorLimits
from web.guards import MEMBER_STATE_KEY, READ_STATE_KEY
from web.render import PieceMemo


async def provide_member(request: Request, now: NamedDependency[datetime]) -> dict:
    """The signed-in member's row (member routes only): the one the guard read, else read now.

    It asks for ``now`` only so that Litestar resolves the two one after the other: dependencies at one level
    are resolved in a task group, which costs more than both of them on every member request."""
    member = request.scope.get("state", {}).get(MEMBER_STATE_KEY)
    if member is None:
        member = await accounts.member_by_id(int(request.session["member_id"]))
    if member is None or member["status"] == "suspended":
        request.clear_session()
        raise NotAuthorizedException("ログインしてください。")
    return member


def read_with_member(request: Request) -> tuple[Any, datetime]:
    """What the route's own read gave when the member guard made it (``READ_WITH_MEMBER``), and the clock's now:
    for the pieces htmx asks for most often (home figures, history rows), where resolving dependencies costs
    Litestar more than the piece. Routes with such a read only (the guard ran)."""
    return request.scope["state"][READ_STATE_KEY], request.app.state.clock.now()


def provide_now(request: Request) -> datetime:
    """Aware UTC now, from the app's clock (KAIIN_CLOCK in dev and tests)."""
    return request.app.state.clock.now()


def repay_context(settings) -> RepayContext:
    """The repayment use cases' settings: policies, the business calendar and the payment gateway."""
    loan = settings.loan_policy()
    return RepayContext(
        loan=loan, repay=settings.repayment_policy(), calendar=business_calendar(loan),
        gateway=gateway_for(settings.payment_gateway), origin=settings.origin, app_name=settings.app_name,
        lender_name=settings.lender_name, phone=settings.lender_phone,
    )


def provide_repay_context(request: Request) -> RepayContext:
    return request.app.state.repayments


def transfer_context(settings) -> TransferContext:
    """The transfer use cases' settings: policies, the bank gateway, the key that seals confirm forms."""
    policy = settings.transfer_policy()
    gateway = SimulatedBank(business_calendar(settings.loan_policy()), policy,
                            fail_accounts=settings.bank_simulator_fail_accounts,
                            latency_ms=settings.bank_simulator_latency_ms)
    secret = hmac.new(settings.resolved_secret_key().encode(), b"kaiin transfer confirm", hashlib.sha256).digest()
    return TransferContext(
        loan_policy=settings.loan_policy(), policy=policy, maintenance=settings.maintenance_policy(),
        gateway=gateway, secret=secret, confirm_seconds=settings.transfer_confirm_seconds,
        claim_seconds=settings.transfer_claim_seconds, app_name=settings.app_name, phone=settings.lender_phone,
    )


def provide_transfer_context(request: Request) -> TransferContext:
    return request.app.state.transfers


@dataclass(frozen=True, slots=True)
class SimulatorContext:
    """The public simulator's numbers and memories, built once per app (a keystroke only looks them up)."""

    policy: LoanPolicy
    calendar: BusinessCalendar
    limits: SimulatorLimits
    due_day: int  #: the due day assumed until one is chosen
    outcomes: OutcomeCache  #: outcomes by inputs (``KAIIN_SIMULATOR_CACHE_ENTRIES``)
    pieces: PieceMemo  #: the result piece rendered for each remembered outcome


def simulator_context(settings) -> SimulatorContext:
    policy = settings.loan_policy()
    return SimulatorContext(
        policy=policy, calendar=business_calendar(policy), limits=settings.simulator_limits(),
        due_day=settings.simulator_due_day, outcomes=OutcomeCache(settings.simulator_cache_entries),
        pieces=PieceMemo(settings.simulator_cache_entries),
    )
