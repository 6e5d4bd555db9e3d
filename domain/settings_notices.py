"""Mail a member receives about settings changes: the email verification code (to the new address),
and the notices of sensitive changes (email, Web-ID) to the address on file. Never a secret in them."""

from __future__ import annotations

from datetime import datetime

from domain.notices import Notice, jst
from domain.profile import mask_email


def _footer(app_name: str, phone: str) -> str:
    return (
        "\n\nお心当たりのない場合は、至急お客様サービスセンター"
        f"（{phone}）までご連絡ください。\n"
        f"このメールは送信専用です。\n{app_name}"
    )


def email_code(*, name: str, code: str, expires_at: datetime, app_name: str) -> Notice:
    """To the new address: the code that proves it is the member's."""
    body = (
        f"{name} 様\n\nメールアドレスの登録・変更の確認コードです。\n\n確認コード：{code}\n"
        f"有効期限：{jst(expires_at)}まで\n\n画面に確認コードを入力すると、このメールアドレスが登録されます。\n"
        "お心当たりのない場合は、このメールを破棄してください（登録は行われません）。\n"
        f"このメールは送信専用です。\n{app_name}"
    )
    return Notice("code_email", f"【{app_name}】メールアドレス確認コード", body)


def email_changed(*, name: str, new_email: str, at: datetime, app_name: str, phone: str) -> Notice:
    """To the old address: the email on file changed (the new one is shown masked)."""
    body = (
        f"{name} 様\n\n{jst(at)}に、ご登録のメールアドレスが {mask_email(new_email)} に変更されました。\n"
        "今後のお知らせは新しいメールアドレスにお送りします。" + _footer(app_name, phone)
    )
    return Notice("email_changed", "【重要】メールアドレスが変更されました", body)


def email_registered(*, name: str, at: datetime, app_name: str, phone: str) -> Notice:
    """To the new address, when there was none before: confirmation of the registration."""
    body = (
        f"{name} 様\n\n{jst(at)}に、このメールアドレスを登録しました。\n"
        "ログインIDの設定や、返済日お知らせメールをご利用いただけます。" + _footer(app_name, phone)
    )
    return Notice("email_registered", "メールアドレスを登録しました", body)


def web_id_changed(*, name: str, first: bool, at: datetime, app_name: str, phone: str) -> Notice:
    """To the address on file. The ID itself is not in the mail: half of a sign-in is not sent around."""
    what = "設定" if first else "変更"
    body = (
        f"{name} 様\n\n{jst(at)}に、ログインIDが{what}されました。\n"
        "次回から新しいログインIDでログインしてください（カード番号でもログインできます）。" + _footer(app_name, phone)
    )
    return Notice("web_id_changed", f"【重要】ログインIDが{what}されました", body)
