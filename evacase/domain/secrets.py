"""Secrets kept in the database (event-export signing keys, delivery credentials), sealed: with a key
(EVACASE_SECRETS_KEY) they are encrypted with AES-256-GCM, so a dump of the database alone cannot forge a
signature or call an endpoint; without one they are stored as they are, marked so (the embedded set-up needs
nothing more; the README says what that means). A value sealed with a key needs that key to be read."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PLAIN = "plain:"
SEALED = "aesgcm1:"


class SecretUnavailable(Exception):
    """A sealed secret that cannot be opened here (no key, or another key)."""


class Sealer:
    def __init__(self, key: str | None) -> None:
        self._aead = AESGCM(hashlib.sha256(key.encode()).digest()) if key else None

    @property
    def encrypts(self) -> bool:
        return self._aead is not None

    def seal(self, value: str) -> str:
        if self._aead is None:
            return PLAIN + value
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, value.encode(), SEALED.encode())
        return SEALED + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str) -> str:
        if stored.startswith(PLAIN):
            return stored.removeprefix(PLAIN)
        if not stored.startswith(SEALED):
            raise SecretUnavailable("not a sealed secret")
        if self._aead is None:
            raise SecretUnavailable("sealed with EVACASE_SECRETS_KEY, which is not set")
        raw = base64.b64decode(stored.removeprefix(SEALED))
        try:
            return self._aead.decrypt(raw[:12], raw[12:], SEALED.encode()).decode()
        except InvalidTag:
            raise SecretUnavailable("sealed with another EVACASE_SECRETS_KEY") from None
