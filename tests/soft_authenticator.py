"""A software WebAuthn authenticator for server tests (attestation "none", ES256 / P-256).

It answers the JSON options kaiin sends (``PublicKeyCredentialCreationOptionsJSON`` and
``…RequestOptionsJSON``) with the JSON a browser's ``credential.toJSON()`` gives, so tests can post exactly
what ``static/passkey.js`` posts. Every flag and field can be bent to make a bad response: user verification
missing, a bogus signature, another origin or RP ID, a lower sign count, another user handle.

Built on ``cryptography`` and ``cbor2`` (both already needed by ``webauthn``); ``soft-webauthn`` is not used
because it pins ``fido2<2`` and so ``cryptography<45``, which webauthn 3 cannot run with.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID = bytes.fromhex("6b61696e2d746573742d6175746830a1")  # "kain-test-auth0" + a byte: not a real model


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ExcludedCredential(Exception):
    """The browser's InvalidStateError: this authenticator already holds one of ``excludeCredentials``."""


class NoCredential(Exception):
    """The browser's NotAllowedError when nothing on the authenticator matches the RP."""


@dataclass
class SoftCredential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})


@dataclass
class SoftAuthenticator:
    """One authenticator holding discoverable credentials (``new_credential`` adds one without a ceremony).

    ``counter_step`` 0 behaves like a synced passkey (the sign count stays 0), 1 like a security key.
    """

    origin: str
    uv: bool = True
    backup_eligible: bool = True
    backed_up: bool = True
    counter_step: int = 1
    transports: tuple[str, ...] = ("internal", "hybrid")
    credentials: dict[bytes, SoftCredential] = field(default_factory=dict)

    def new_credential(self, rp_id: str, user_handle: bytes = b"") -> SoftCredential:
        credential = SoftCredential(
            credential_id=os.urandom(32), private_key=ec.generate_private_key(ec.SECP256R1()), rp_id=rp_id,
            user_handle=user_handle or os.urandom(32),
        )
        self.credentials[credential.credential_id] = credential
        return credential

    # --- registration: navigator.credentials.create() ------------------------------------------
    def create(self, options: dict[str, Any], *, origin: str | None = None, uv: bool | None = None,
               rp_id: str | None = None, challenge: str | None = None,
               again: bytes | None = None) -> dict[str, Any]:
        """A ``RegistrationResponseJSON`` for ``options`` (the server's creation options as JSON).

        ``again`` re-sends an existing credential (what a misbehaving client ignoring exclusions would do).
        """
        options = options.get("publicKey", options)
        rp = rp_id or options["rp"]["id"]
        if again is not None:
            credential = self.credentials[again]
        else:
            for excluded in options.get("excludeCredentials") or []:
                if unb64url(excluded["id"]) in self.credentials:
                    raise ExcludedCredential(excluded["id"])
            credential = self.new_credential(rp, unb64url(options["user"]["id"]))
        client_data = self._client_data("webauthn.create", challenge or options["challenge"], origin)
        attested = AAGUID + struct.pack(">H", len(credential.credential_id)) + credential.credential_id
        auth_data = self._auth_data(rp, AT | self._flags(uv), 0) + attested + credential.cose_public_key()
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        raw_id = b64url(credential.credential_id)
        return {
            "id": raw_id, "rawId": raw_id, "type": "public-key", "authenticatorAttachment": "platform",
            "clientExtensionResults": {"credProps": {"rk": True}},
            "response": {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation),
                         "transports": list(self.transports)},
        }

    # --- authentication: navigator.credentials.get() -------------------------------------------
    def get(self, options: dict[str, Any], *, credential_id: bytes | None = None, origin: str | None = None,
            uv: bool | None = None, rp_id: str | None = None, bogus_signature: bool = False,
            sign_count: int | None = None, user_handle: bytes | None | bool = True,
            challenge: str | None = None) -> dict[str, Any]:
        """An ``AuthenticationResponseJSON``: the first (or the named) credential for the RP signs.

        ``user_handle=True`` sends the credential's own handle, ``None`` sends none, bytes send those.
        ``sign_count`` forces the counter (to test a cloned authenticator going backwards).
        """
        options = options.get("publicKey", options)
        credential = self._pick(options, credential_id, options.get("rpId"))
        rp = rp_id or credential.rp_id  # a forced rp_id only bends the RP ID hash that gets signed
        if sign_count is None:
            credential.sign_count += self.counter_step
            count = credential.sign_count
        else:
            count = sign_count
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        auth_data = self._auth_data(rp, self._flags(uv), count)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = credential.private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        if bogus_signature:
            signature = ec.generate_private_key(ec.SECP256R1()).sign(signed, ec.ECDSA(hashes.SHA256()))
        handle = credential.user_handle if user_handle is True else user_handle
        raw_id = b64url(credential.credential_id)
        return {
            "id": raw_id, "rawId": raw_id, "type": "public-key", "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                         "signature": b64url(signature), "userHandle": b64url(handle) if handle else None},
        }

    # --- pieces ----------------------------------------------------------------------------------
    def _pick(self, options: dict[str, Any], credential_id: bytes | None, rp: str | None) -> SoftCredential:
        if credential_id is not None:
            if credential_id not in self.credentials:
                raise NoCredential(b64url(credential_id))
            return self.credentials[credential_id]
        allowed = {unb64url(item["id"]) for item in options.get("allowCredentials") or []}
        for credential in self.credentials.values():
            if (rp is None or credential.rp_id == rp) and (not allowed or credential.credential_id in allowed):
                return credential
        raise NoCredential(rp or "")

    def _flags(self, uv: bool | None) -> int:
        flags = UP | (UV if (self.uv if uv is None else uv) else 0)
        if self.backup_eligible:
            flags |= BE | (BS if self.backed_up else 0)
        return flags

    @staticmethod
    def _auth_data(rp_id: str, flags: int, sign_count: int) -> bytes:
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        return json.dumps(data, separators=(",", ":")).encode()
