"""`filmld contribute FILE --url URL --token TOKEN`: post a file to a filmld server.

Exit codes (cli.py): 0 accepted, 1 refused (the report is printed), 2 bad input (missing
file, malformed body, wrong token, limits: fix and resend), 3 try again later (server
unreachable, 429 rate limit, 5xx): one line on stderr says which.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from filmld import cli_extensions
from filmld.cli import BAD_INPUT, FAILED, OK, TRY_LATER, UsageProblem
from filmld.formats import rdf_format
from filmld.validation import Report

POSTABLE = {"ttl", "jsonld", "nt"}


def cmd_contribute(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageProblem(f"{path}: no such file")
    fmt = rdf_format(args.format or path.name)
    if fmt is None or fmt.name not in POSTABLE:
        raise UsageProblem(f"{path}: send Turtle (.ttl), JSON-LD (.jsonld) or N-Triples (.nt)")
    endpoint = args.url.rstrip("/") + ("/validate" if args.dry_run else "/contributions")
    request = urllib.request.Request(
        endpoint, data=path.read_bytes(), method="POST",
        headers={"Content-Type": fmt.media_type, "Accept": "application/json",
                 "Authorization": f"Bearer {args.token}"})
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        print(f"filmld contribute: try again later: {endpoint} is unreachable ({reason})",
              file=sys.stderr)
        return TRY_LATER
    return show(status, body)


def show(status: int, body: bytes) -> int:
    """Print what the server said; the exit code follows from the status alone."""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = {}
    report = Report.from_summary(answer["report"]) if "report" in answer else None
    if status in (200, 201):
        if status == 201:
            print(f"Accepted: {answer.get('iri')} ({answer.get('triples')} triples)")
        else:
            print(answer.get("message", "The contribution would be accepted."))
        if report is not None and report.results:
            print(report.text())
        return OK
    if status == 422 and report is not None:
        print("Refused: nothing was stored.")
        print(report.text())
        return FAILED
    message = answer.get("error", {}).get("message") if isinstance(answer, dict) else None
    text = " ".join((message or body[:200].decode(errors="replace")).split())
    later = status == 429 or status >= 500
    print(f"filmld contribute: {'try again later: ' if later else ''}HTTP {status}: {text}",
          file=sys.stderr)
    return TRY_LATER if later else BAD_INPUT


def register(command: Callable) -> None:
    p = command("contribute", cmd_contribute,
                "Post an RDF file to a filmld server as a contribution (or --dry-run).")
    p.add_argument("file")
    p.add_argument("--url", required=True, help="The server's base URL, http://host:port/.")
    p.add_argument("--token", required=True, help="Your contributor token.")
    p.add_argument("--format", help="ttl, jsonld or nt (default: from the file's extension).")
    p.add_argument("--dry-run", action="store_true",
                   help="Only validate (POST /validate); nothing is stored.")
    p.add_argument("--timeout", type=float, default=60.0)


cli_extensions.REGISTRY.append(register)
