"""利息シミュレーション: the public simulator; results update as the visitor types (htmx), or on submit."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from db.holidays import business_calendar
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


@get("/simulator")
async def show_simulator(request: Request, now: NamedDependency[datetime]) -> Template:
    """The page with a worked example already computed (the product's top rate, the amount due)."""
    settings = request.app.state.settings
    form = simulator.default_form(settings.simulator_default_amount, settings.simulator_default_months,
                                  settings.loan_policy())
    return respond(request, form, now)


@post("/simulator")
async def simulate(request: Request, now: NamedDependency[datetime],
                   data: Annotated[SimulatorForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Template:
    """A keystroke (htmx: only ``#sim-result``) or the submit button without JavaScript (the whole page)."""
    return respond(request, dataclasses.asdict(data), now)


def respond(request: Request, form: dict[str, str], now: datetime) -> Template:
    settings = request.app.state.settings
    policy = settings.loan_policy()
    outcome = simulator.simulate_form(form, jst_date(now), settings.simulator_due_day, policy,
                                      business_calendar(policy), settings.simulator_limits())
    context = {"form": form, "outcome": outcome, "public_page": True, "policy": policy}
    return render.piece_or_page(request, "simulator/_result.html", "sim-result", "pages/simulator.html",
                                context, status=200 if outcome.ok else 422)


ROUTES = [show_simulator, simulate]
