"""What XML 1.0 cannot carry, for every XML we write (RDF/XML, SPARQL XML results).

XML 1.0 (section 2.2, Char; 4.1, "Well-formedness constraint: Legal Character") has no way
at all to write the C0 controls other than TAB, LF and CR, nor U+FFFE and U+FFFF, not even
as character references; DEL and the C1 controls are allowed. A CR may be written, but only
as `&#13;`: written raw, every XML parser reads it as LF (section 2.11). RDF literals can
hold all of these, so a document that would need one is refused (dropping or replacing the
character would serve other data), and CRs are written as references.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from xml.sax.saxutils import unescape

from filmld.errors import FilmldError

XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XML_FORBIDDEN_UTF8 = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")
UNNAMED_ELEMENT = re.compile(rb'</?oxprefix[0-9]*:[\s/>](?:xmlns:oxprefix[0-9]*="([^"]*)")?')
"""How Oxigraph's RDF/XML writer gives an element for an IRI with no XML local name at its end
(`.../123`, `urn:x:1`): `<oxprefix: xmlns:oxprefix="...">`, which no XML parser reads. A `<`
in text or attribute values is always escaped, so these bytes are an element name."""
_TAIL = 16  # bytes kept from one piece to the next: longer than any match above (the IRI
# is named when its declaration arrived in the same piece)


class NotInXml(FilmldError, ValueError):
    """A result holds a character XML 1.0 cannot carry (406: other formats can)."""

    status, title = 406, "Not acceptable"


def xml_guard(emit: Callable[[bytes], None], format_label: str,
              available: list[str]) -> Callable[[bytes], None]:
    """`emit`, for UTF-8 XML written in pieces: CRs become `&#13;`, and a forbidden
    character, or a predicate or class IRI written as no element name (UNNAMED_ELEMENT),
    raises NotInXml before its piece is passed on (found across two pieces too)."""
    tail = [b""]

    def guarded(data: bytes) -> None:
        joined = tail[0] + data
        found = XML_FORBIDDEN_UTF8.search(joined)
        if found is not None:
            char = found.group().decode("utf-8")
            raise NotInXml(f"the result holds the character U+{ord(char):04X}, which "
                           f"{format_label} (XML 1.0) cannot carry; formats that can: "
                           + ", ".join(available), details={"available": available})
        unnamed = UNNAMED_ELEMENT.search(joined)
        if unnamed is not None:  # the opening tag declares the IRI: name it when it is here
            iri = f"<{unescape(unnamed.group(1).decode())}> " if unnamed.group(1) else ""
            raise NotInXml(f"the result has a predicate or class IRI {iri}with no XML local "
                           f"name at its end (such as .../123), which {format_label} cannot "
                           "write as an element name; formats that can: "
                           + ", ".join(available), details={"available": available})
        tail[0] = data[-_TAIL:]
        emit(data.replace(b"\r", b"&#13;") if b"\r" in data else data)

    return guarded


def guard_pieces(pieces: Iterator[bytes], format_label: str,
                 available: list[str]) -> Iterator[bytes]:
    """xml_guard over an iterator of pieces (a remote store's answer); closing this closes
    `pieces`."""
    out: list[bytes] = []
    guard = xml_guard(out.append, format_label, available)
    try:
        for piece in pieces:
            guard(piece)
            yield from out
            out.clear()
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()
