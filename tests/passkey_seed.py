"""Put a passkey straight into a server's SQLite database, as if the member had registered it earlier.

For browser tests (the private key goes into Chromium's virtual authenticator) and benchmarks (the in-repo
software authenticator signs). Registration itself is tested through the real pages and endpoints.
"""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

from tests.soft_authenticator import SoftCredential, b64url, unb64url

REGISTERED_AT = "2026-11-01T00:00:00+00:00"


def seed_passkey(database: Path, credential: SoftCredential, *, card_number: str, name: str = "テスト端末") -> None:
    """Store ``credential`` for the member holding ``card_number``; its user handle becomes the member's."""
    with sqlite3.connect(database, timeout=30) as conn:
        member = conn.execute("SELECT member FROM card WHERE card_number = ?", (card_number,)).fetchone()[0]
        row = conn.execute("SELECT user_handle FROM passkey_user WHERE member = ?", (member,)).fetchone()
        if row:
            credential.user_handle = unb64url(row[0])
        else:
            conn.execute("INSERT INTO passkey_user (member, user_handle, created_at) VALUES (?, ?, ?)",
                         (member, b64url(credential.user_handle), REGISTERED_AT))
        conn.execute(
            "INSERT INTO passkey (member, credential_id, public_key, sign_count, transports, device_type, backed_up,"
            " aaguid, name, created_at) VALUES (?, ?, ?, 0, 'internal', 'multi_device', 1, '', ?, ?)",
            (member, b64url(credential.credential_id), credential.cose_public_key(), name, REGISTERED_AT),
        )


def cdp_credential(credential: SoftCredential) -> dict:
    """The same credential for ``WebAuthn.addCredential`` (CDP binary fields are standard base64)."""
    from cryptography.hazmat.primitives import serialization

    pkcs8 = credential.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    encode = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return {"credentialId": encode(credential.credential_id), "isResidentCredential": True, "rpId": credential.rp_id,
            "privateKey": encode(pkcs8), "userHandle": encode(credential.user_handle), "signCount": credential.sign_count,
            "backupEligibility": True, "backupState": True}
