"""Use cases of /settings (product.md §8): read every setting, and change address and workplace,
reminder mail, Web-ID and email. One write transaction each; domain errors for every refusal.

Password, due day and the notices that go with sensitive changes build on ``db.auth``, ``db.loans``
and ``db.mail``; they live in :mod:`db.settings_changes`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg
from piccolo.query.functions.string import Lower

from db import debits, mail, payees
from db.auth import AuthContext
from db.engine import write_tx
from db.debits import Registration
from db.payees import Payee
from db.tables import Card, Contract, Credential, Member, MemberProfile, Passkey, ReminderSetting
from domain import settings_notices
from domain.credentials import web_id_key
from domain.errors import FieldError
from domain.profile import Profile
from domain.reminders import ReminderPolicy, ReminderPreference, default_preference


class SettingRefused(FieldError):
    """A change that the member's account does not allow; ``field`` names the form field."""


WEB_ID_TAKEN = "このログインIDはすでに使われています（大文字・小文字の違いだけのIDも使えません）。別のIDにしてください。"


@dataclass(frozen=True, slots=True)
class SettingsView:
    """Every setting of one member with its current value: what the /settings hub lists."""

    name: str
    email: str | None
    email_verified: bool
    web_id: str | None
    password_changed_at: datetime | None  #: None: no password yet (card sign-in only)
    due_day: str  #: 5 | 15 | 25 | end
    profile: Profile | None
    reminder: ReminderPreference
    reminder_is_default: bool
    payee: Payee | None = None  #: the payee account of borrowing by transfer (振込先口座)
    debit: Registration | None = None  #: the automatic-debit account in force (口座振替)
    debit_pending: Registration | None = None  #: …and one registered but not yet in force (手続き中)
    passkey_count: int = 0  #: passkeys registered (db.passkeys)


async def settings_view(member_id: int, reminder_policy: ReminderPolicy, today: date | None = None) -> SettingsView:
    """Every setting of the member; the automatic-debit rows (in force or pending on ``today``) only when
    ``today`` is given (the hub)."""
    member = await Member.select(Member.name, Member.email, Member.email_verified, Member.web_id).where(
        Member.id == member_id
    ).first()
    if member is None:
        raise SettingRefused("member", "会員情報が見つかりません。")
    password = await Credential.select(Credential.changed_at).where(
        (Credential.member == member_id) & (Credential.kind == "password")
    ).first()
    contract = await Contract.select(Contract.due_day).where(Contract.member == member_id).order_by(Contract.id).first()
    return SettingsView(
        name=member["name"], email=member["email"], email_verified=bool(member["email_verified"]),
        web_id=member["web_id"], password_changed_at=password["changed_at"] if password else None,
        due_day=contract["due_day"] if contract else "",
        profile=await profile_of(member_id),
        reminder=await reminder_of(member_id, reminder_policy) or default_preference(reminder_policy),
        reminder_is_default=await reminder_of(member_id, reminder_policy) is None,
        payee=await payees.current(member_id),
        passkey_count=await Passkey.count().where(Passkey.member == member_id),
        **(dict(zip(("debit", "debit_pending"), await debits.registrations(member_id, today))) if today else {}),
    )


# --- address and workplace -------------------------------------------------------------------------


async def profile_of(member_id: int) -> Profile | None:
    row = await MemberProfile.select(
        MemberProfile.postcode, MemberProfile.address, MemberProfile.workplace_name, MemberProfile.workplace_phone
    ).where(MemberProfile.member == member_id).first()
    return Profile(**row) if row else None


async def save_profile(member_id: int, profile: Profile, *, now: datetime) -> None:
    """Store the address and workplace (already validated by ``domain.profile.parse_profile``)."""
    values = {
        MemberProfile.postcode: profile.postcode, MemberProfile.address: profile.address,
        MemberProfile.workplace_name: profile.workplace_name, MemberProfile.workplace_phone: profile.workplace_phone,
        MemberProfile.updated_at: now,
    }
    async with write_tx():
        updated = await MemberProfile.update(values).where(MemberProfile.member == member_id).returning(MemberProfile.id)
        if not updated:
            await MemberProfile.insert(MemberProfile(member=member_id, **{col._meta.name: v for col, v in values.items()}))


# --- reminder mail -----------------------------------------------------------------------------------


async def reminder_of(member_id: int, policy: ReminderPolicy) -> ReminderPreference | None:
    """The member's own choice, or None when they never changed the defaults."""
    row = await ReminderSetting.select(ReminderSetting.enabled, ReminderSetting.days_before, ReminderSetting.hour).where(
        ReminderSetting.member == member_id
    ).first()
    return ReminderPreference(bool(row["enabled"]), row["days_before"], row["hour"]) if row else None


async def save_reminder(member_id: int, preference: ReminderPreference, *, now: datetime) -> None:
    values = {
        ReminderSetting.enabled: preference.enabled, ReminderSetting.days_before: preference.days_before,
        ReminderSetting.hour: preference.hour, ReminderSetting.updated_at: now,
    }
    async with write_tx():
        updated = await ReminderSetting.update(values).where(ReminderSetting.member == member_id).returning(
            ReminderSetting.id
        )
        if not updated:
            await ReminderSetting.insert(
                ReminderSetting(member=member_id, **{col._meta.name: v for col, v in values.items()})
            )


# --- Web-ID ------------------------------------------------------------------------------------------


def _is_unique_violation(exc: BaseException) -> bool:
    return isinstance(exc, (sqlite3.IntegrityError, asyncpg.exceptions.UniqueViolationError))


async def web_id_taken(web_id: str, *, except_member: int | None = None) -> bool:
    """True when another member holds ``web_id`` in any case (``Taro2024`` takes ``taro2024``)."""
    query = Member.exists().where(Lower(Member.web_id) == web_id_key(web_id))
    if except_member is not None:
        query = query.where(Member.id != except_member)
    return await query


@dataclass(frozen=True, slots=True)
class WebIdChanged:
    old: str | None
    new: str
    email: str
    name: str


async def set_web_id(member_id: int, web_id: str, ctx: AuthContext) -> WebIdChanged:
    """Set or change the Web-ID (already parsed by ``domain.credentials.parse_new_web_id``).

    Needs a verified email (seed 000). Unique whatever the case: checked here and held by the unique
    index on ``lower(web_id)``, so two members racing for ``Taro2024``/``taro2024`` cannot both win.

    A notice goes to the member's email in the same transaction.

    Raises:
        SettingRefused: no verified email, the member's current Web-ID, or taken.
    """
    try:
        async with write_tx():
            row = await Member.select(Member.web_id, Member.email, Member.email_verified, Member.name).where(
                Member.id == member_id
            ).first()
            if row is None:
                raise SettingRefused("web_id", "会員情報が見つかりません。")
            if not (row["email"] and row["email_verified"]):
                raise SettingRefused("web_id", "ログインIDを設定するには、先にメールアドレスを登録（確認）してください。")
            if row["web_id"] == web_id:
                raise SettingRefused("web_id", "現在のログインIDと同じです。")
            if await web_id_taken(web_id, except_member=member_id):
                raise SettingRefused("web_id", WEB_ID_TAKEN)
            await Member.update({Member.web_id: web_id}).where(Member.id == member_id)
            notice = settings_notices.web_id_changed(name=row["name"], first=row["web_id"] is None, at=ctx.now,
                                                     app_name=ctx.app_name, phone=ctx.support_phone)
            await mail.enqueue(to_addr=row["email"], notice=notice, now=ctx.now, member=member_id)
    except Exception as exc:
        if _is_unique_violation(exc):
            raise SettingRefused("web_id", WEB_ID_TAKEN) from None
        raise
    return WebIdChanged(row["web_id"], web_id, row["email"], row["name"])


async def card_number_of(member_id: int) -> str | None:
    """The member's card number (digits), for the password check that refuses it as a password."""
    row = await Card.select(Card.card_number).where(Card.member == member_id).order_by(Card.id).first()
    return row["card_number"] if row else None
