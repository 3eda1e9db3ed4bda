"""Bearer tokens: who a request comes from, compared in constant time (RFC 6750)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path

from filmld.config import Settings
from filmld.errors import Unauthorized

OPERATOR = "operator"
CHALLENGE = 'Bearer realm="filmld"'


@dataclass(frozen=True)
class Contributor:
    """Who made a request: the name from the tokens setting; `operator` may withdraw all."""

    name: str

    @property
    def is_operator(self) -> bool:
        return self.name == OPERATOR


class Tokens:
    """contributor:token pairs from the `tokens` setting and the `tokens_file`."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = [(name, token.encode()) for name, token in pairs]

    @classmethod
    def from_settings(cls, settings: Settings) -> Tokens:
        lines = [p for p in settings.tokens.split(",")]
        if settings.tokens_file:
            lines += Path(settings.tokens_file).read_text(encoding="utf-8").splitlines()
        pairs = []
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, token = line.partition(":")
            if not sep or not name.strip() or not token.strip():
                raise ValueError("tokens: each entry must be contributor:token")
            pairs.append((name.strip(), token.strip()))
        return cls(pairs)

    def authenticate(self, authorization: str | None) -> Contributor:
        """The contributor a `Bearer` Authorization header names, or 401 Unauthorized.

        Every configured token is compared, with hmac.compare_digest, whatever matches:
        the time taken says nothing about which token, or how much of one, was right.
        """
        scheme, _, credential = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise Unauthorized("send a token: Authorization: Bearer <token>",
                               headers={"WWW-Authenticate": CHALLENGE})
        offered = credential.strip().encode()
        found = None
        for name, token in self._pairs:
            if hmac.compare_digest(offered, token) and found is None:
                found = name
        if found is None:
            raise Unauthorized("this token is not valid",
                               headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'})
        return Contributor(found)
