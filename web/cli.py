"""The ``kaiin`` command line for operators and developers."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import date, datetime, timedelta
from typing import Sequence

from db import accounts, engine
from domain.errors import DomainError, LoanError
from domain.interest import check_contract_terms
from domain.maintenance import MaintenanceError, operator_window, parse_operator_time
from web import filters
from web.clock import Clock
from web.settings import ROOT, Settings, SettingsError


class CommandError(Exception):
    """A bad argument or a refused operation: printed as one line, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env()
        return args.run(args, settings) or 0
    except (CommandError, DomainError, SettingsError, ValueError) as exc:
        print(f"kaiin: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kaiin", description="カイイン 会員サービスの運用コマンド")
    sub = parser.add_subparsers(metavar="command")

    serve = sub.add_parser("serve", help="serve the app (HOST/PORT, default 127.0.0.1:8000)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(run=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)
    sub.add_parser("demo", help="create the demo members (idempotent) and print their sign-ins").set_defaults(run=cmd_demo)

    member = sub.add_parser("member", help="operator commands for members").add_subparsers(metavar="action")
    create = member.add_parser("create", help="create a member and print the member number")
    create.add_argument("--card", required=True, help="card number: 10 or 15-16 digits")
    create.add_argument("--pin", required=True, help="4-digit PIN")
    create.add_argument("--name", default="会員")
    create.add_argument("--web-id")
    create.add_argument("--password")
    create.add_argument("--email")
    create.add_argument("--birth-date", type=_date)
    create.add_argument("--limit", type=int, default=500_000, help="credit limit in yen")
    create.add_argument("--rate", type=_rate, default=1780, help="annual rate in percent, e.g. 17.8")
    create.add_argument("--due-day", choices=accounts.DUE_DAYS, default="5")
    create.add_argument("--balance", type=int, default=0, help="opening principal in yen")
    create.add_argument("--borrowed-on", type=_date)
    create.add_argument("--status", choices=accounts.STATUSES, default="active")
    create.set_defaults(run=cmd_member_create)

    maint = sub.add_parser("maintenance", help="operator maintenance windows").add_subparsers(metavar="action")
    add = maint.add_parser("add", help="add a window; times with an offset, or JST without one")
    add.add_argument("--start", required=True, type=_moment, help="e.g. 2026-11-25T14:00 (JST) or 2026-11-25T05:00Z")
    add.add_argument("--end", required=True, type=_moment, help="the moment service resumes")
    add.add_argument("--reason", required=True, help="shown to members on the maintenance page")
    add.set_defaults(run=cmd_maintenance_add)
    listing = maint.add_parser("list", help="operator windows not yet ended, and the calendar ahead")
    listing.add_argument("--all", action="store_true", help="include windows that have ended")
    listing.add_argument("--days", type=_days, default=14, help="how many days of the calendar to show")
    listing.set_defaults(run=cmd_maintenance_list)
    remove = maint.add_parser("remove", help="remove an operator window by its ID (ends it if under way)")
    remove.add_argument("id", type=_window_id)
    remove.set_defaults(run=cmd_maintenance_remove)
    for action, helptext, runner in (
        ("reissue-pin", "set a new PIN (printed when --pin is not given); unlocks it and ends sessions", cmd_member_reissue_pin),
        ("unlock", "unlock the member's locked PIN and password", cmd_member_unlock),
        ("suspend", "suspend a member (cannot sign in; every session ends)", cmd_member_suspend),
        ("activate", "make a suspended or borrowing-stopped member active again", cmd_member_activate),
    ):
        sub_action = member.add_parser(action, help=helptext)
        sub_action.add_argument("member_no", help="member number (会員番号)")
        sub_action.add_argument("--operator", default=os.environ.get("USER", "operator"), help="who is acting (audit log)")
        if action == "reissue-pin":
            sub_action.add_argument("--pin", help="the new PIN; a random one is made and printed when omitted")
        if action == "suspend":
            sub_action.add_argument("--reason", default="", help="shown to operators in the audit log")
        sub_action.set_defaults(run=runner)

    audit = sub.add_parser("audit", help="print the security audit log, newest first")
    audit.add_argument("--member", help="only this member number")
    audit.add_argument("--action", help="only this action, e.g. login_card, lockout_pin, member_unlock")
    audit.add_argument("--limit", type=int, default=50)
    audit.set_defaults(run=cmd_audit)
    worker = sub.add_parser("worker", help="run scheduled work (automatic debits, due-date roll-over) every "
                                           "KAIIN_WORKER_INTERVAL_SECONDS; any number may run at once")
    worker.add_argument("--once", action="store_true", help="one round, print what was done, then exit")
    worker.set_defaults(run=cmd_worker)

    bank = sub.add_parser("bank", help="the bank list payee accounts are chosen from").add_subparsers(metavar="action")
    bank.add_parser("list", help="every bank, with its 24-hour flag").set_defaults(run=cmd_bank_list)
    bank_set = bank.add_parser("set", help="add a bank or change its name or 24-hour flag")
    bank_set.add_argument("code", help="4-digit bank code")
    bank_set.add_argument("--name")
    flag = bank_set.add_mutually_exclusive_group()
    flag.add_argument("--instant", dest="instant", action="store_true", default=None,
                      help="settles 24 hours a day (全銀モアタイム)")
    flag.add_argument("--no-instant", dest="instant", action="store_false", help="follows bank hours")
    bank_set.set_defaults(run=cmd_bank_set, active=True)
    bank_remove = bank.add_parser("remove", help="stop offering a bank for new payee accounts")
    bank_remove.add_argument("code")
    bank_remove.set_defaults(run=cmd_bank_set, active=False, name=None, instant=None)
    return parser


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "web.app:create_served_app", factory=True, host=args.host or settings.host, port=args.port or settings.port,
        workers=args.workers or settings.workers, proxy_headers=False, server_header=False, log_level="info",
    )
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_with_db(settings, engine.migrate()))
    print("kaiin: migrations applied")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from db import demo
    from web.app import hasher

    load = demo.load(hasher=hasher(settings), now=Clock(settings.clock).now(), policy=settings.loan_policy(),
                     bulk_rows=settings.demo_bulk_rows)
    lines = asyncio.run(_with_db(settings, load))
    print("デモ会員（ログイン情報）:")
    for line in lines:
        print("  " + line)
    return 0


def cmd_member_create(args: argparse.Namespace, settings: Settings) -> int:
    from web.app import hasher

    now = Clock(settings.clock).now()
    card = _digits(args.card, "--card", (10, 15, 16))
    pin = _digits(args.pin, "--pin", (4,))
    if (args.web_id is None) != (args.password is None):
        raise CommandError("--web-id と --password は一緒に指定してください")
    if args.limit <= 0 or args.balance < 0 or args.balance > args.limit:
        raise CommandError("--limit は正の整数、--balance は 0 以上で限度額以下です")
    try:
        check_contract_terms(args.limit, args.rate, settings.loan_policy())
    except LoanError as error:
        raise CommandError(f"--limit / --rate: {error.message}") from None
    new = accounts.NewMember(
        name=args.name, card_number=card, pin=pin, web_id=args.web_id, password=args.password, email=args.email,
        birth_date=args.birth_date, credit_limit=args.limit, rate=args.rate, due_day=args.due_day,
        opened_on=args.borrowed_on or now.date(), balance=args.balance, borrowed_on=args.borrowed_on,
        status=args.status,
    )
    member_no = asyncio.run(_with_db(settings, accounts.create_member(new, hasher=hasher(settings), now=now)))
    print(member_no)
    return 0


def cmd_maintenance_add(args: argparse.Namespace, settings: Settings) -> int:
    from db import maintenance

    now = Clock(settings.clock).now()
    added = asyncio.run(_with_db(settings, maintenance.add_window(args.start, args.end, args.reason, now=now)))
    print(f"kaiin: メンテナンスを登録しました: {_window_line(added)}")
    return 0


def cmd_maintenance_list(args: argparse.Namespace, settings: Settings) -> int:
    from db import maintenance
    from domain.maintenance import windows_between

    now = Clock(settings.clock).now()
    stored = asyncio.run(_with_db(settings, maintenance.list_windows(now=now, include_past=args.all)))
    print("登録済みのメンテナンス (日本時間):" if stored else "登録済みのメンテナンスはありません。")
    for window in stored:
        print("  " + _window_line(window))
    ahead = [window for window in stored if window.ends_at > now]
    operators = [operator_window(w.starts_at, w.ends_at, w.reason) for w in ahead]
    calendar = windows_between(now, now + timedelta(days=args.days), settings.maintenance_policy(), operators)
    print(f"今後{args.days}日間のメンテナンス時間 (定期・年始を含む):")
    for window in calendar:
        print(f"  {filters.jspan(window.start, window.end)}")
    return 0


def cmd_maintenance_remove(args: argparse.Namespace, settings: Settings) -> int:
    from db import maintenance

    removed = asyncio.run(_with_db(settings, maintenance.remove_window(args.id)))
    print(f"kaiin: メンテナンスを削除しました: {_window_line(removed)}")
    return 0


def _window_line(window) -> str:
    return f"ID {window.id}  {filters.jspan(window.starts_at, window.ends_at)}  {window.reason}"
def _operator_context(settings: Settings):
    from db.auth import AuthContext
    from web.app import hasher
    from web.auth_flow import code_key

    return AuthContext(
        now=Clock(settings.clock).now(), policy=settings.auth_policy(), hasher=hasher(settings),
        code_key=code_key(settings), app_name=settings.app_name, support_phone=settings.lender_phone, ip="cli",
    )


async def _then_deliver(settings: Settings, coro):
    """Run an operator use case, then deliver the notices it queued."""
    from web.mail import MailSender

    result = await coro
    await MailSender(settings).deliver_pending(now=Clock(settings.clock).now())
    return result


def cmd_member_reissue_pin(args: argparse.Namespace, settings: Settings) -> int:
    from db import auth
    from domain.credentials import parse_pin

    policy = settings.credential_policy()
    pin = parse_pin(args.pin, policy) if args.pin is not None else auth.random_pin(policy.pin_length)
    ctx = _operator_context(settings)
    asyncio.run(_with_db(settings, _then_deliver(
        settings, auth.reissue_pin(args.member_no, pin, ctx=ctx, operator=args.operator))))
    print(f"会員番号 {args.member_no} の暗証番号を再発行しました（ロック解除・全セッション終了）。")
    if args.pin is None:
        print(f"新しい暗証番号: {pin}")
    return 0


def cmd_member_unlock(args: argparse.Namespace, settings: Settings) -> int:
    from db import auth

    ctx = _operator_context(settings)
    factors = asyncio.run(_with_db(settings, _then_deliver(
        settings, auth.unlock(args.member_no, ctx=ctx, operator=args.operator))))
    names = {"pin": "暗証番号", "password": "パスワード"}
    done = "、".join(names[f] for f in factors) or "ロックされているものはありませんでした"
    print(f"会員番号 {args.member_no}: {done}" + ("のロックを解除しました。" if factors else "。"))
    return 0


def cmd_member_suspend(args: argparse.Namespace, settings: Settings) -> int:
    from db import auth

    ctx = _operator_context(settings)
    asyncio.run(_with_db(settings, auth.set_status(args.member_no, "suspended", args.reason, ctx=ctx,
                                                   operator=args.operator)))
    print(f"会員番号 {args.member_no} の利用を停止しました（全セッション終了）。")
    return 0


def cmd_member_activate(args: argparse.Namespace, settings: Settings) -> int:
    from db import auth

    ctx = _operator_context(settings)
    asyncio.run(_with_db(settings, auth.set_status(args.member_no, "active", "", ctx=ctx, operator=args.operator)))
    print(f"会員番号 {args.member_no} をご利用中に戻しました。")
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from db import audit, auth

    async def read():
        member_id = (await auth.member_by_no(args.member)).id if args.member else None
        return await audit.recent(limit=args.limit, member=member_id, action=args.action)

    if args.limit <= 0:
        raise CommandError("--limit は1以上です")
    for e in asyncio.run(_with_db(settings, read())):
        print(f"{e.at.isoformat()}  member={e.member_no or '-'}  {e.actor}  {e.action}  {e.outcome}  ip={e.ip or '-'}  {e.detail}")
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    import json
    import logging

    from db import worker
    from web.jobs import jobs, maintenance_window

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    clock = Clock(settings.clock)
    if args.once:
        report = asyncio.run(_with_db(settings, worker.run_once(clock.now(), jobs(settings), maintenance_window(settings))))
        print(json.dumps(report, ensure_ascii=False, sort_keys=True))
        return 0
    run = worker.run(clock.now, jobs(settings), maintenance_window(settings), interval=settings.worker_interval_seconds)
    try:
        asyncio.run(_with_db(settings, run))
    except KeyboardInterrupt:
        pass
    return 0


def cmd_bank_list(args: argparse.Namespace, settings: Settings) -> int:
    from db import banks

    for bank in asyncio.run(_with_db(settings, banks.all_banks(include_inactive=True))):
        flags = ("24時間" if bank.instant else "営業時間") + ("" if bank.active else " 停止中")
        print(f"{bank.code}  {bank.name}  {flags}")
    return 0


def cmd_bank_set(args: argparse.Namespace, settings: Settings) -> int:
    from db import banks

    now = Clock(settings.clock).now()
    bank = asyncio.run(_with_db(settings, banks.set_bank(args.code, args.name, args.instant, args.active, now)))
    state = ("24時間" if bank.instant else "営業時間") if bank.active else "停止中"
    print(f"kaiin: {bank.code} {bank.name} ({state})")
    return 0


async def _with_db(settings: Settings, coro):
    engine.configure(settings.database_url, root=ROOT)
    await engine.start()
    try:
        return await coro
    finally:
        await engine.stop()


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日付は YYYY-MM-DD で指定してください: {text!r}") from None


def _moment(text: str) -> datetime:
    try:
        return parse_operator_time(text)
    except MaintenanceError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _days(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= 366):
        raise argparse.ArgumentTypeError(f"--days は 1〜366 の整数です: {text!r}")
    return int(text)


def _window_id(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 2**63):
        raise argparse.ArgumentTypeError(f"ID は `kaiin maintenance list` に出る番号です: {text!r}")
    return int(text)


def _rate(text: str) -> int:
    whole, _, frac = text.strip().partition(".")
    if not whole.isascii() or not whole.isdigit() or (frac and (not frac.isascii() or not frac.isdigit() or len(frac) > 2)):
        raise argparse.ArgumentTypeError(f"金利は 17.8 のように指定してください: {text!r}")
    return int(whole) * 100 + int(frac.ljust(2, "0") or 0)


def _digits(text: str, flag: str, lengths: tuple[int, ...]) -> str:
    if not (text.isascii() and text.isdigit() and len(text) in lengths):
        raise CommandError(f"{flag} は {' / '.join(map(str, lengths))} 桁の数字です")
    return text


if __name__ == "__main__":
    sys.exit(main())
