"""The XML guard of SPARQL XML answers (filmld.xml_chars) on pieces as they are written."""

from __future__ import annotations

import pytest

from filmld.xml_chars import NotInXml, guard_pieces, xml_guard


def test_a_noncharacter_split_across_two_pieces_is_found():
    out: list[bytes] = []
    guard = xml_guard(out.append, "RDF/XML", ["ttl"])
    guard(b"<literal>a\xef\xbf")
    with pytest.raises(NotInXml) as raised:
        guard(b"\xbe</literal>")
    assert "U+FFFE" in raised.value.message and raised.value.status == 406
    assert out == [b"<literal>a\xef\xbf"]  # the piece with the character was not passed on


def test_crs_become_references_and_other_characters_pass():
    text = "cr\r tab\t lf\n del\x7f nel\x85 \ufffd é".encode()
    assert b"".join(guard_pieces(iter([text]), "RDF/XML", ["ttl"])) == \
        text.replace(b"\r", b"&#13;")


def test_closing_the_guarded_pieces_closes_the_source():
    closed = []

    def source():
        try:
            yield b"<a/>"
            yield b"<b/>"
        finally:
            closed.append(True)

    pieces = guard_pieces(source(), "RDF/XML", ["ttl"])
    assert next(pieces) == b"<a/>"
    pieces.close()
    assert closed == [True]


@pytest.mark.parametrize("split", [1, 5, 10, 11])
def test_an_iri_written_as_no_element_name_is_found_even_across_pieces(split):
    """Oxigraph writes a predicate such as http://example.org/p/123 as `<oxprefix: ...>`;
    the same bytes in text are always escaped (`&lt;oxprefix: `), so they pass."""
    out: list[bytes] = []
    guard = xml_guard(out.append, "RDF/XML", ["ttl"])
    guard(b"<name>&lt;oxprefix: a</name>")
    element = b'\t\t<oxprefix: xmlns:oxprefix="http://example.org/p/123">x</oxprefix:>'
    with pytest.raises(NotInXml) as raised:
        guard(element[:split])
        guard(element[split:])
    assert "no XML local name" in raised.value.message and raised.value.status == 406
    assert b"oxprefix: xmlns" not in b"".join(out)
