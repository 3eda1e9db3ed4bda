"""The WSGI entry point the server imports: the app built from FILMLD_* settings."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

from filmld.web import create_app
from filmld.web.access_log import AccessLog

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """A server worker must not outlive granian's main process: killed with SIGKILL, the
    main process cannot stop its workers, and an orphan would keep the store locked, so a
    restart would fail. Linux delivers SIGKILL to us when the parent dies (prctl(2))."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


die_with_parent()
application = create_app()
if application.extensions["filmld.settings"].access_log:
    application.wsgi_app = AccessLog(application.wsgi_app)
