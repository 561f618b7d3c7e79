"""Parsing of untrusted XML (uploaded BPMN and DMN).

No entity expansion, no DTD loading, no network, bounded size: an XXE or an entity bomb
is refused before any model code sees the document.
"""

from __future__ import annotations

from lxml import etree

MAX_XML_BYTES = 5 * 1024 * 1024


class XmlError(ValueError):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def parse_xml(content: bytes | str) -> etree._ElementTree:
    if isinstance(content, str):
        content = content.encode("utf-8")
    if len(content) > MAX_XML_BYTES:
        raise XmlError(f"el archivo supera el máximo de {MAX_XML_BYTES // (1024 * 1024)} MB")
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise XmlError("no se permiten declaraciones DOCTYPE ni ENTITY en el XML")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )
    try:
        return etree.ElementTree(etree.fromstring(content, parser))
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"XML mal formado: {exc.msg}", exc.lineno) from None
    except ValueError as exc:
        raise XmlError(f"XML inválido: {exc}") from None
