"""Log lines that cannot be forged: control characters from requests are escaped.

A request path is percent-decoded before anyone logs it, so `/id/person/a%0Ab` would write a
raw newline (a forged second line) and `%00` a NUL into the log. granian 2.8 writes the
decoded path into its access log as it is (`"GET /id/person/a<newline>b HTTP/1.1"`), so
`filmld serve` gives granian's access logger `EscapingFormatter`, and filmld's own log lines
use `printable`. Such paths are also refused early with a 400 (`filmld.web.errors`).
"""

from __future__ import annotations

import logging
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPED = re.compile(r"[\x00-\x1f\\\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """`text` with every control character (C0, DEL, C1, line and paragraph separators)
    written as a `\\xNN` or `\\uNNNN` escape, so one log record stays one line; a backslash
    is escaped too (`\\x5c`), so an escape in the log is never the client's own text."""
    return _ESCAPED.sub(lambda m: (f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                                   else f"\\u{ord(m.group()):04x}"), text)


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


class EscapingFormatter(logging.Formatter):
    """A formatter for one-line records (the access log): control characters escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def granian_log_config() -> dict:
    """granian's own logging configuration, its access lines written by EscapingFormatter."""
    import copy

    from granian.log import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"]["()"] = "filmld.log_format.EscapingFormatter"
    return config
