"""SpiffWorkflow's parser errors as problems an analyst can act on: in Spanish, naming the file, the
line and the element, with what to change. The parser's own (English, internal) text never reaches
the analyst; an error not listed here gets a general sentence about the element it names."""

from __future__ import annotations

import re

from lxml import etree
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.basics.errors import EngineError, Problem
from engine.basics.xmlsafe import XmlError, parse_xml

GENERAL = ("el motor no puede construir este elemento tal como está: revise su tipo, sus propiedades y sus "
           "conexiones, o reemplácelo por un elemento que el motor ejecute")
TRANSLATIONS = [
    (r"Exactly one start event is required in a SubWorkflow Task; found (\d+)",
     "el subproceso debe tener exactamente un evento de inicio (tiene {0})"),
    (r"A SubWorkflow Must contain an End event", "el subproceso no tiene un evento de fin: agregue uno"),
    (r"No start event found", "el proceso no tiene un evento de inicio: agregue uno"),
    (r"Unknown Time Specification",
     "el temporizador no indica cuándo se dispara: escriba una fecha (timeDate), una duración (timeDuration) "
     "o un ciclo (timeCycle)"),
    (r"Time Specification Error", "la expresión del temporizador no es válida: use una fecha o duración ISO 8601"),
    (r"The process '([^']*)' was not found",
     "llama al proceso '{0}', que no está en estos archivos ni desplegado: súbalo junto a este archivo o "
     "despliéguelo antes"),
    (r'No DMN Diagram available with id "([^"]*)"', "decisión desconocida '{0}'"),
    (r"No \"calledElement\" attribute", "la actividad de llamada no indica el proceso que llama (calledElement)"),
    (r"Multiple outgoing flows are not supported",
     "este elemento no puede tener varias salidas: agregue una compuerta después de él y saque de ella los caminos"),
    (r"^KeyError\('([^']*)'\)",
     "a una de sus partes (propiedades, parámetros, extensiones) le falta el atributo «{0}»"),
    (r"Non-default exclusive outgoing sequence flow without condition",
     "flujo de salida de una compuerta sin condición ni marcado por defecto"),
    (r"There is no support implemented for this task type",
     "el motor no ejecuta este tipo de elemento: reemplácelo por una tarea de usuario, de servicio o de script"),
    (r"Sequential ordering for ad hoc subprocesses",
     "el motor no ejecuta subprocesos ad hoc secuenciales: márquelo como paralelo"),
    (r"Ad hoc subprocesses may not contain start or end events",
     "un subproceso ad hoc no lleva eventos de inicio ni de fin: quítelos"),
    (r"Duplicate process ID: (\S+?)\.?(?:\s|$)", "el proceso '{0}' está definido en más de un archivo"),
    (r"Could not find messageRef|Correlation|Message identifier",
     "el mensaje o la correlación a la que se refiere no está definida en el archivo"),
    (r"(Signal|Error|Escalation) identifier is missing",
     "la señal, el error o el escalamiento al que se refiere no está definido en el archivo"),
    (r"Multiple decision tables|No decisions found|Unknown type in decision table",
     "el motor no puede leer esta tabla de decisión: deje una sola tabla (decisionTable) con entradas, "
     "salidas y reglas"),
]


def _translate(text: str) -> str:
    for pattern, message in TRANSLATIONS:
        match = re.search(pattern, text)
        if match:
            return message.format(*match.groups())
    return GENERAL


def _find(sources: dict, filename: str, ident: str):
    """The element `ident` in the file `filename` (or in any of `sources`: filename -> content)."""
    names = [filename] if filename in sources else []
    for name in names + [n for n in sources if n != filename]:
        try:
            root = parse_xml(sources[name]).getroot()
        except XmlError:
            continue
        for node in root.iter():
            if isinstance(node.tag, str) and node.get("id") == ident:
                return name, node
    return None, None


def _describe(node) -> str:
    ident, name = node.get("id", ""), node.get("name")
    return f"{etree.QName(node).localname} {ident}" + (f" ({name})" if name else "")


def problem(exc: Exception, filename: str, process_key: str, sources: dict) -> Problem:
    """The Problem an exception raised while building `process_key` (from `filename`) stands for;
    `sources`: the files the build read (filename -> content), where the element is looked up."""
    line = process_line(sources.get(filename), process_key)
    if isinstance(exc, EngineError):  # ours, already in Spanish (e.g. a stored form today's rules refuse)
        return Problem(filename, line, f"process {process_key}", str(exc))
    if not isinstance(exc, SpiffWorkflowException):  # a crash in the parser: nothing of its text is useful
        return Problem(filename, line, f"process {process_key}",
                       "el motor no puede construir este proceso con estos archivos: revise los elementos poco "
                       "habituales (eventos, subprocesos, actividades de llamada) y sus propiedades")
    ident = getattr(exc, "id", "") or ""
    where, node = _find(sources, (getattr(exc, "file_name", "") or "").rsplit("/", 1)[-1], ident) if ident \
        else (None, None)
    if node is None:
        return Problem(filename, line, f"process {process_key}", _translate(str(exc)))
    return Problem(where, node.sourceline, _describe(node), _translate(str(exc)))


def process_line(content, key: str) -> int | None:
    """The line of the process or decision `key` in a file's `content` (None if it is not there)."""
    if content is None:
        return None
    try:
        root = parse_xml(content).getroot()
    except XmlError:
        return None
    for node in root:
        if isinstance(node.tag, str) and node.get("id") == key and \
                etree.QName(node).localname in ("process", "decision"):
            return node.sourceline
    return None
