"""利息シミュレーション: the public simulator and the member's own (from today's position); results update as
the visitor types (htmx), or on submit without JavaScript."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body

from db import loans
from domain import simulator
from domain.loan import jst_date
from web import render


@dataclass
class SimulatorForm:
    mode: str = simulator.MODE_PAYMENT
    amount: str = ""
    rate: str = ""
    payment: str = ""
    months: str = ""
    due_day: str = ""


FIELDS = tuple(field.name for field in dataclasses.fields(SimulatorForm))


@get("/simulator", opt={"maintenance": "exempt"})
async def show_simulator(request: Request, now: NamedDependency[datetime]) -> Response:
    """The page, or a keystroke: htmx sends the form as a query and swaps only ``#sim-result``.

    Without a query, a worked example (the product's top rate, paying the amount due). A calculation
    changes nothing and needs no member, so it stays up during maintenance."""
    form = query_form(request)
    if not form:
        settings = request.app.state.settings
        form = simulator.default_form(settings.simulator_default_amount, settings.simulator_default_months,
                                      settings.loan_policy())
    return respond(request, form, now)


@post("/simulator")
async def simulate(request: Request, now: NamedDependency[datetime],
                   data: Annotated[SimulatorForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Response:
    """The submit button without JavaScript: the whole page with the result."""
    return respond(request, dataclasses.asdict(data), now)


def query_form(request: Request) -> dict[str, str]:
    query = request.query_params
    return {name: query.get(name, "") for name in FIELDS if name in query}


def respond(request: Request, form: dict[str, str], now: datetime) -> Response:
    """The public result: the outcome and its rendered piece come from the app's memories when the same
    inputs were asked today (``SimulatorContext``)."""
    sim = request.app.state.simulator
    outcome = simulator.simulate_form(form, jst_date(now), sim.due_day, sim.policy, sim.calendar, sim.limits,
                                      sim.outcomes)
    context = {"form": form, "outcome": outcome, "public_page": True, "policy": sim.policy}
    return render.piece_or_page(request, "simulator/_result.html", "sim-result", "pages/simulator.html", context,
                                status=200 if outcome.ok else 422, memo=sim.pieces, source=outcome)


@get("/simulator/mine")
async def show_my_simulator(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime]) -> Response:
    """The member's own: "if I pay ¥X a month" from today's balance, rate, due day and amount due."""
    return await respond_member(request, member, query_form(request), now)


@post("/simulator/mine")
async def simulate_mine(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                        data: Annotated[SimulatorForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Response:
    """The member's own, submitted without JavaScript."""
    return await respond_member(request, member, dataclasses.asdict(data), now)


async def respond_member(request: Request, member: dict, form: dict[str, str], now: datetime) -> Response:
    settings = request.app.state.settings
    account = await loans.account_for_member(member["id"], now, settings.loan_policy())
    position = account.position if account else None
    form = form or simulator.member_default_form(position, settings.simulator_default_months)
    outcome = simulator.simulate_position(form, position, settings.simulator_limits())
    context = {"form": form, "outcome": outcome, "policy": settings.loan_policy(), "nav": "simulator",
               "position": position, "action": "/simulator/mine"}
    return render.piece_or_page(request, "simulator/_result.html", "sim-result", "pages/simulator.html",
                                context, status=200 if outcome.ok else 422)


ROUTES = [show_simulator, simulate]
MEMBER_ROUTES = [show_my_simulator, simulate_mine]
