"""Texts of the security mail a member receives (subject and plain-text body).

Pure: times are given as aware datetimes and shown in JST; nothing secret is ever put in a notice
(no PIN, password, full card number or session id). A code appears only in the mail that delivers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.loan import JST


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str
    subject: str
    body: str


def jst(moment: datetime) -> str:
    """``2026年11月22日 16:05`` in Japan time."""
    local = moment.astimezone(JST)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def footer(app_name: str, phone: str) -> str:
    """The end of every security notice: what to do when it was not the member, and who sent it."""
    return _footer(app_name, phone)


def _footer(app_name: str, phone: str) -> str:
    return (
        "\n\nお心当たりのない場合は、至急お客様サービスセンター"
        f"（{phone}）までご連絡ください。\n"
        f"このメールは送信専用です。\n{app_name}"
    )


_FACTOR_NAMES = {"pin": "暗証番号", "password": "パスワード"}


def new_device_sign_in(*, name: str, at: datetime, way: str, ip: str, app_name: str, phone: str) -> Notice:
    body = (
        f"{name} 様\n\n新しい端末からログインがありました。\n\n"
        f"日時：{jst(at)}\nログイン方法：{way}\n接続元IPアドレス：{ip}"
        + _footer(app_name, phone)
    )
    return Notice("new_device", "【重要】新しい端末からログインがありました", body)


def factor_locked(*, name: str, factor: str, at: datetime, app_name: str, phone: str) -> Notice:
    label = _FACTOR_NAMES[factor]
    if factor == "password":
        way_out = "「ログインID・パスワードをお忘れの方」から、パスワードを再設定するとロックが解除されます。"
    else:
        way_out = (
            "暗証番号の再発行をお申し込みください（お客様サービスセンター・自動契約機）。"
            "パスキーを登録済みの場合は、パスキーでログインして暗証番号を再設定できます。"
        )
    body = (
        f"{name} 様\n\n{label}を続けて間違えたため、{jst(at)}に{label}をロックしました。\n"
        f"{way_out}\n他のログイン方法（パスキーなど）は引き続きご利用いただけます。"
        + _footer(app_name, phone)
    )
    return Notice("locked", f"【重要】{label}をロックしました", body)


def secret_changed(*, name: str, factor: str, at: datetime, app_name: str, phone: str) -> Notice:
    label = _FACTOR_NAMES[factor]
    body = (
        f"{name} 様\n\n{jst(at)}に{label}が変更されました。\n"
        "ほかの端末でのログインはすべて終了しました。" + _footer(app_name, phone)
    )
    return Notice(f"{factor}_changed", f"【重要】{label}が変更されました", body)


def account_unlocked(*, name: str, factor: str, at: datetime, app_name: str, phone: str) -> Notice:
    label = _FACTOR_NAMES[factor]
    body = f"{name} 様\n\n{jst(at)}に{label}のロックを解除しました。" + _footer(app_name, phone)
    return Notice("unlocked", f"{label}のロックを解除しました", body)


def one_time_code(*, name: str, code: str, purpose: str, expires_at: datetime, app_name: str) -> Notice:
    """The mail that carries a code; ``purpose`` is ``recover`` or ``step_up``."""
    what = "ログインID・パスワードの再設定" if purpose == "recover" else "お取引・設定変更の本人確認"
    body = (
        f"{name} 様\n\n{what}の確認コードです。\n\n確認コード：{code}\n\n"
        f"有効期限：{jst(expires_at)}まで（1回だけ使えます）\n"
        "このコードを他人に教えないでください。当社の社員がコードをお尋ねすることはありません。\n"
        f"お心当たりのない場合は、このメールを破棄してください。\n{app_name}"
    )
    return Notice(f"code_{purpose}", f"確認コード：{what}", body)


def passkey_added(*, name: str, passkey: str, at: datetime, app_name: str, phone: str) -> Notice:
    body = (
        f"{name} 様\n\nパスキー「{passkey}」が登録されました。\n"
        f"日時：{jst(at)}\n次回から、このパスキーでログインできます。"
        + _footer(app_name, phone)
    )
    return Notice("passkey_added", "【重要】パスキーが登録されました", body)


def passkey_removed(*, name: str, passkey: str, at: datetime, app_name: str, phone: str) -> Notice:
    body = (
        f"{name} 様\n\nパスキー「{passkey}」が削除されました。\n"
        f"日時：{jst(at)}\nこのパスキーではログインできなくなりました。"
        + _footer(app_name, phone)
    )
    return Notice("passkey_removed", "【重要】パスキーが削除されました", body)
