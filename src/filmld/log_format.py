"""Log lines that cannot be forged: control characters from requests are escaped.

A request path is percent-decoded before anyone logs it, so `/id/person/a%0Ab` would write a
raw newline (a forged second line) and `%00` a NUL into the log. The access log
(web/access_log.py) and filmld's own log lines use `printable`. Such paths are also refused
early with a 400 (`filmld.web.errors`).
"""

from __future__ import annotations

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
