"""各種設定: the /settings hub and the forms that change what a member may change without calling.

Every form is a plain POST (works without JavaScript; htmx boosting upgrades it). Bad input re-renders
the form with a Japanese message and status 422, and nothing is stored. A saved change goes back to the
hub (303, or a client redirect for htmx: see render.redirect) with ``?saved=<what>`` so the hub says what changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Template

from db import due_day, member_settings
from domain.errors import DomainError
from domain.loan import jst_date
from domain.profile import format_postcode, parse_profile
from domain.reminders import parse_preference
from web import render

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
UNPROCESSABLE = 422

#: what the hub says after a change (``/settings?saved=<key>``)
SAVED = {
    "profile": "住所・勤務先を変更しました。",
    "reminder": "返済日お知らせメールの設定を変更しました。",
    "due_day": "返済日を変更しました。",
    "email": "メールアドレスを登録しました。",
    "web_id": "ログインIDを設定しました。",
    "password": "パスワードを変更しました。ほかの端末のログインは終了しました。",
}


def _page(request: Request, template: str, context: dict[str, Any], error: DomainError | None = None) -> Template:
    """A settings page; with ``error`` the form comes back with its message, status 422."""
    if error is None:
        return render.page(request, template, {"nav": "settings", **context})
    field = getattr(error, "field", "")
    context = {"nav": "settings", **context, "error": error.message, "error_field": field}
    return render.page(request, template, context, status=UNPROCESSABLE)


@get("/settings")
async def show_settings(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                        saved: FromQuery[str] = "") -> Template:
    """The hub: every setting with its current value and a way to change it."""
    view = await member_settings.settings_view(member["id"], request.app.state.settings.reminder_policy(),
                                               jst_date(now))
    return _page(request, "pages/settings.html", {"view": view, "saved": SAVED.get(saved, "")})


# --- 住所・勤務先 ------------------------------------------------------------------------------------


@dataclass
class ProfileForm:
    postcode: str = ""
    address: str = ""
    workplace_name: str = ""
    workplace_phone: str = ""


@get("/settings/profile")
async def show_profile(request: Request, member: NamedDependency[dict]) -> Template:
    profile = await member_settings.profile_of(member["id"])
    form = ProfileForm(**asdict(profile)) if profile else ProfileForm()
    if profile:
        form.postcode = format_postcode(profile.postcode)
    return _page(request, "pages/settings_profile.html", {"form": form})


@post("/settings/profile")
async def save_profile(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                       data: Annotated[ProfileForm, FORM]) -> Response | Template:
    policy = request.app.state.settings.profile_policy()
    try:
        profile = parse_profile(data.postcode, data.address, data.workplace_name, data.workplace_phone, policy)
    except DomainError as error:
        return _page(request, "pages/settings_profile.html", {"form": data}, error)
    await member_settings.save_profile(member["id"], profile, now=now)
    return render.redirect(request, "/settings?saved=profile")


# --- 返済日お知らせメール ----------------------------------------------------------------------------


@dataclass
class ReminderForm:
    enabled: str = ""
    days_before: str = ""
    hour: str = ""


def _reminder_context(request: Request, form: ReminderForm) -> dict[str, Any]:
    return {"form": form, "policy": request.app.state.settings.reminder_policy()}


@get("/settings/reminder")
async def show_reminder(request: Request, member: NamedDependency[dict]) -> Template:
    policy = request.app.state.settings.reminder_policy()
    view = await member_settings.settings_view(member["id"], policy)
    pref = view.reminder
    form = ReminderForm("on" if pref.enabled else "off", str(pref.days_before), str(pref.hour))
    return _page(request, "pages/settings_reminder.html", _reminder_context(request, form))


@post("/settings/reminder")
async def save_reminder(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                        data: Annotated[ReminderForm, FORM]) -> Response | Template:
    try:
        pref = parse_preference(data.enabled, data.days_before, data.hour, request.app.state.settings.reminder_policy())
    except DomainError as error:
        return _page(request, "pages/settings_reminder.html", _reminder_context(request, data), error)
    await member_settings.save_reminder(member["id"], pref, now=now)
    return render.redirect(request, "/settings?saved=reminder")


# --- 返済日 ----------------------------------------------------------------------------------------


@dataclass
class DueDayForm:
    due_day: str = ""


async def _due_day_context(request: Request, member_id: int, now: datetime, chosen: str = "") -> dict[str, Any]:
    settings = request.app.state.settings
    options = await due_day.options(member_id, now, settings.loan_policy(), settings.repayment_policy())
    return {"options": options, "chosen": chosen, "day_text": due_day.due_day_text}


@get("/settings/due-day")
async def show_due_day(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime]) -> Template:
    """Each choice says from which due date it would apply, before the member picks one."""
    return _page(request, "pages/settings_due_day.html", await _due_day_context(request, member["id"], now))


@post("/settings/due-day")
async def save_due_day(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                       data: Annotated[DueDayForm, FORM]) -> Response | Template:
    try:
        settings = request.app.state.settings
        change = await due_day.change_due_day(member["id"], data.due_day, now, settings.loan_policy(),
                                              settings.repayment_policy())
    except DomainError as error:
        context = await _due_day_context(request, member["id"], now, data.due_day)
        return _page(request, "pages/settings_due_day.html", context, error)
    return _page(request, "pages/settings_done.html", {"title": "返済日を変更しました", "message": change.summary()})


ROUTES = [show_settings, show_profile, save_profile, show_reminder, save_reminder, show_due_day, save_due_day]
