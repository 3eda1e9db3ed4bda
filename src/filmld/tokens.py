"""Bearer tokens: who a request comes from, compared in constant time (RFC 6750).

The tokens file is read again whenever it changes, so that a leaked token can be revoked
(and a new one given) without a restart, in every worker process: each process checks the
file's stat on each authentication, which costs one system call, not a read.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from filmld.config import Settings
from filmld.errors import FilmldError, Unauthorized

OPERATOR = "operator"
CHALLENGE = 'Bearer realm="filmld"'

# A child of the contributions logger, which web/contributions.py sends to stderr.
log = logging.getLogger("filmld.contributions.tokens")


@dataclass(frozen=True)
class Contributor:
    """Who made a request: the name from the tokens setting; `operator` may withdraw all."""

    name: str

    @property
    def is_operator(self) -> bool:
        return self.name == OPERATOR


class TokensUnavailable(FilmldError):
    """The tokens file changed into something unusable: requests that need a token are
    refused, not let in with the tokens it held before (one may be the leaked token the edit
    was meant to remove)."""

    status, title = 503, "Tokens unavailable"
    RETRY_AFTER = "60"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"Retry-After": self.RETRY_AFTER})


Pair = tuple[str, bytes]


def parse_pairs(lines: Iterable[str], source: str) -> list[Pair]:
    """contributor:token entries; blank lines and # comments skipped. A malformed entry is
    a ValueError naming its line, never its text: that may be a token."""
    pairs = []
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, token = line.partition(":")
        if not sep or not name.strip() or not token.strip():
            raise ValueError(f"{source} {number} is not contributor:token")
        pairs.append((name.strip(), token.strip().encode()))
    return pairs


# What identifies one version of the file: an editor's atomic rename changes the inode,
# an edit in place the size or the times (ctime too, which os.utime cannot set back).
Signature = tuple[int, int, int, int, int]


def _signature(status: os.stat_result) -> Signature:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns,
            status.st_ctime_ns)


def _current_signature(path: Path) -> Signature | None:
    try:
        return _signature(os.stat(path))
    except OSError:
        return None


@dataclass(frozen=True)
class _Version:
    """The file as last read: its pairs, or why it cannot be used (`fault`, what follows
    the file's name in a message: ", line 2 is not ..." or " cannot be read (...)")."""

    signature: Signature | None
    pairs: list[Pair]
    fault: str | None = None


class TokensFile:
    """The `tokens_file`, read again when its signature changes. Unreadable or malformed:
    TokensUnavailable until it is fixed. Deleted: no tokens from it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # one reader at a time; the others wait for its result
        self._version = self._read()

    @property
    def problem(self) -> str | None:
        """Why the file, as last read, cannot be used, naming it (the operator's message);
        None when it can."""
        fault = self._version.fault
        return f"tokens file {self.path}{fault}" if fault else None

    @property
    def missing(self) -> bool:
        return self._version.signature is None and not self._version.fault

    def pairs(self) -> list[Pair]:
        version = self._version
        if _current_signature(self.path) != version.signature:
            with self._lock:
                version = self._version
                if _current_signature(self.path) != version.signature:
                    version = self._version = self._read()
                    self._log_change(version)
        if version.fault:
            # The client is told what is wrong, not where the server keeps its files.
            raise TokensUnavailable(f"the tokens file{version.fault}: requests that need a "
                                    "token are refused until the operator fixes it")
        return version.pairs

    def _read(self) -> _Version:
        try:
            with open(self.path, encoding="utf-8") as file:
                # The signature of what is read, not of the path a moment before.
                signature = _signature(os.fstat(file.fileno()))
                text = file.read()
        except FileNotFoundError:
            return _Version(None, [])
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8"
            return _Version(_current_signature(self.path), [], f" cannot be read ({reason})")
        try:
            return _Version(signature, parse_pairs(text.splitlines(), ", line"))
        except ValueError as error:
            return _Version(signature, [], str(error))

    def _log_change(self, version: _Version) -> None:
        if version.fault:
            log.error("%s: write requests answer 503 until it is fixed (no restart needed)",
                      self.problem)
        elif version.signature is None:
            log.warning("tokens file %s is gone: only the tokens setting's tokens are accepted",
                        self.path)
        else:
            log.info("tokens file %s read again: %d token(s)", self.path, len(version.pairs))


class Tokens:
    """contributor:token pairs from the `tokens` setting and the `tokens_file` (TokensFile:
    as it is now, not as it was at start)."""

    def __init__(self, pairs: list[Pair], file: TokensFile | None = None) -> None:
        self._pairs = pairs
        self._file = file

    @classmethod
    def from_settings(cls, settings: Settings) -> Tokens:
        """At start a missing or malformed file stops the server: a wrong path or a typo
        is found at once, not at the first contribution."""
        inline = parse_pairs(settings.tokens.split(","), "tokens setting, entry")
        file = None
        if settings.tokens_file:
            file = TokensFile(Path(settings.tokens_file))
            if file.problem:
                raise ValueError(file.problem)
            if file.missing:
                raise ValueError(f"tokens file {file.path} does not exist")
        return cls(inline, file)

    def authenticate(self, authorization: str | None) -> Contributor:
        """The contributor a `Bearer` Authorization header names, or 401 Unauthorized
        (503 TokensUnavailable while the tokens file is unusable).

        Every configured token is compared, with hmac.compare_digest, whatever matches:
        the time taken says nothing about which token, or how much of one, was right.
        """
        pairs = self._pairs + (self._file.pairs() if self._file else [])
        scheme, _, credential = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise Unauthorized("send a token: Authorization: Bearer <token>",
                               headers={"WWW-Authenticate": CHALLENGE})
        offered = credential.strip().encode()
        found = None
        for name, token in pairs:
            if hmac.compare_digest(offered, token) and found is None:
                found = name
        if found is None:
            raise Unauthorized("this token is not valid",
                               headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'})
        return Contributor(found)
