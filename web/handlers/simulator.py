"""利息シミュレーション: the public simulator and the member's own (from today's position); results update as
the visitor types (htmx), or on submit without JavaScript."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import parse_qsl

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body

from db import loans
from domain import simulator
from domain.loan import jst_date
from web import charts, render
from web.deps import provide_now


@dataclass
class SimulatorForm:
    mode: str = simulator.MODE_PAYMENT
    amount: str = ""
    rate: str = ""
    payment: str = ""
    months: str = ""
    due_day: str = ""


FIELDS = tuple(field.name for field in dataclasses.fields(SimulatorForm))
FIELD_NAMES = frozenset(FIELDS)


@get("/simulator", opt={"maintenance": "exempt"})
async def show_simulator(request: Request) -> Response:
    """The page, or a keystroke: htmx sends the form as a query and swaps only ``#sim-result``.

    Without a query, a worked example (the product's top rate, paying the amount due). A calculation
    changes nothing and needs no member, so it stays up during maintenance. The app's clock is read here,
    not injected: resolving the ``now`` dependency was about a tenth of a keystroke's server time."""
    form = query_form(request)
    if not form:
        settings = request.app.state.settings
        form = simulator.default_form(settings.simulator_default_amount, settings.simulator_default_months,
                                      settings.loan_policy())
    return respond(request, form, provide_now(request))


@post("/simulator")
async def simulate(request: Request, now: NamedDependency[datetime],
                   data: Annotated[SimulatorForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Response:
    """The submit button without JavaScript: the whole page with the result."""
    return respond(request, dataclasses.asdict(data), now)


def query_form(request: Request) -> dict[str, str]:
    """The form's fields in the query (the first of each). A keystroke sends plain ``name=value`` pairs,
    split as they are; anything escaped (typed full-width digits, …) is decoded by ``parse_qsl``."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    form: dict[str, str] = {}
    if "%" in query or "+" in query:
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name in FIELD_NAMES and name not in form:
                form[name] = value
        return form
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name in FIELD_NAMES and name not in form:
            form[name] = value
    return form


@get("/simulator/schedule", opt={"maintenance": "exempt"})
async def show_schedule(request: Request) -> Response:
    """The month-by-month table of a keystroke's result, fetched when its collapsed schedule is first opened
    (htmx); followed as a link (the table's fallback), the page with the table open."""
    return respond(request, query_form(request), provide_now(request), table=True)


def respond(request: Request, form: dict[str, str], now: datetime, *, table: bool = False) -> Response:
    """The public result: the outcome and its rendered piece come from the app's memories when the same
    inputs were asked today (``SimulatorContext``); a worked keystroke's piece is built by ``web.charts``."""
    sim = request.app.state.simulator
    outcome = simulator.simulate_form(form, jst_date(now), sim.due_day, sim.policy, sim.calendar, sim.limits,
                                      sim.outcomes)
    context = {"form": form, "outcome": outcome, "public_page": True, "policy": sim.policy, "schedule_open": table}
    status = 200 if outcome.ok else 422
    if table:
        return render.piece_or_page(request, "simulator/_schedule.html", "sim-schedule", "pages/simulator.html",
                                    context, status=status)
    return render.piece_or_page(request, "simulator/_result.html", "sim-result", "pages/simulator.html", context,
                                status=status, memo=sim.pieces, source=outcome,
                                build=(lambda: charts.result_piece(outcome, member=False)) if outcome.ok else None)


@get("/simulator/mine")
async def show_my_simulator(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime]) -> Response:
    """The member's own: "if I pay ¥X a month" from today's balance, rate, due day and amount due."""
    return await respond_member(request, member, query_form(request), now)


@post("/simulator/mine")
async def simulate_mine(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                        data: Annotated[SimulatorForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Response:
    """The member's own, submitted without JavaScript."""
    return await respond_member(request, member, dataclasses.asdict(data), now)


@get("/simulator/mine/schedule")
async def show_my_schedule(request: Request, member: NamedDependency[dict],
                           now: NamedDependency[datetime]) -> Response:
    """The member's month-by-month table, fetched when the collapsed schedule is first opened."""
    return await respond_member(request, member, query_form(request), now, table=True)


async def respond_member(request: Request, member: dict, form: dict[str, str], now: datetime, *,
                         table: bool = False) -> Response:
    settings = request.app.state.settings
    account = await loans.account_for_member(member["id"], now, settings.loan_policy())
    position = account.position if account else None
    form = form or simulator.member_default_form(position, settings.simulator_default_months)
    outcome = simulator.simulate_position(form, position, settings.simulator_limits())
    context = {"form": form, "outcome": outcome, "policy": settings.loan_policy(), "nav": "simulator",
               "position": position, "action": "/simulator/mine", "schedule_open": table}
    piece, target = ("simulator/_schedule.html", "sim-schedule") if table else ("simulator/_result.html", "sim-result")
    return render.piece_or_page(request, piece, target, "pages/simulator.html", context,
                                status=200 if outcome.ok else 422)


ROUTES = [show_simulator, simulate, show_schedule]
MEMBER_ROUTES = [show_my_simulator, simulate_mine, show_my_schedule]
