"""The schema (XSD) check of a BPMN or DMN file told in Spanish: which element, on which line, what is
wrong and what to change.

lxml (libxml2) reports schema errors in English, in a small number of fixed shapes ("Element '{ns}tag':
The attribute 'sourceRef' is required but missing.", "… is not a valid value of the atomic type
'xs:ID'." …). `describe` recognises each shape (SHAPES: a pattern and the Spanish text it gives) and
writes what an analyst reads; a shape it does not know gives a general Spanish message that still names
the element and the line, never lxml's text. Pure functions of the error text and the element it
concerns: engine/models/validation.py finds that element in the file and builds the Problem."""

from __future__ import annotations

import re
from collections.abc import Callable

from engine.models.lane_roles import shown

# what the schema's simple types mean, for "… is not a valid value of the atomic type 'xs:…'"
TYPES = {
    "xs:ID": "un id (empieza con una letra o «_», sin espacios; solo letras, dígitos, «_», «-» y «.»)",
    "xs:IDREF": "el id de otro elemento del archivo (sin espacios)",
    "xs:IDREFS": "ids de otros elementos del archivo, separados por espacios",
    "xs:QName": "el id de otro elemento (sin espacios; a lo más un prefijo como «bpmn:»)",
    "xs:NCName": "un nombre sin espacios ni «:» que empiece con una letra o «_»",
    "xs:boolean": "true o false",
    "xs:integer": "un número entero",
    "xs:int": "un número entero",
    "xs:nonNegativeInteger": "un número entero mayor o igual a 0",
    "xs:positiveInteger": "un número entero mayor que 0",
    "xs:double": "un número (con punto decimal)",
    "xs:float": "un número (con punto decimal)",
    "xs:decimal": "un número (con punto decimal)",
    "xs:anyURI": "una dirección (URI) sin espacios",
    "xs:string": "un texto",
}
# what some attributes are, to say what to do when one is missing
ATTRIBUTES = {
    "sourceRef": "el elemento del que sale: conéctelo en el editor a su origen, o bórrelo",
    "targetRef": "el elemento al que llega: conéctelo en el editor a su destino, o bórrelo",
    "id": "cada elemento necesita un id único: póngale uno (por ejemplo, «Tarea_1»)",
    "bpmnElement": "el elemento del modelo que dibuja: bórrelo del diagrama o vuelva a dibujar el elemento",
    "processRef": "el proceso del participante: elija uno en el editor",
    "messageRef": "el mensaje: elija uno en el editor",
    "attachedToRef": "la tarea a cuyo borde va el evento: vuelva a ponerlo en el borde de una tarea",
}
_NAMESPACES = {  # namespace -> the prefix analysts see in their files
    "http://www.omg.org/spec/BPMN/20100524/MODEL": "bpmn",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
    "http://spiffworkflow.org/bpmn/schema/1.0/core": "spiffworkflow",
}
_ELEMENT = r"Element '(?P<tag>[^']*)'"
_ATTRIBUTE = r", attribute '(?P<attr>[^']*)'"


def tag_name(qualified: str) -> str:
    """`{namespace}local` as an analyst sees it in the file: `bpmn:local` (or just `local`)."""
    if qualified.startswith("{") and "}" in qualified:
        namespace, local = qualified[1:].split("}", 1)
        prefix = _NAMESPACES.get(namespace) or ("dmn" if "DMN" in namespace.upper() else "")
        return f"{prefix}:{local}" if prefix else local
    return qualified


def _names(listing: str) -> str:
    names = [tag_name(part.strip()) for part in listing.split(",") if part.strip()]
    shown_names = ", ".join(f"«{shown(name, 60)}»" for name in names[:6])
    return shown_names + (f" (y {len(names) - 6} más)" if len(names) > 6 else "")


def _value(text: str) -> str:
    return f"«{shown(text, 60)}»"


def _missing_attribute(m, ctx):
    attr = m["missing"]
    what = ATTRIBUTES.get(tag_name(attr), "agréguelo con un valor válido")
    return f"falta el atributo obligatorio «{shown(tag_name(attr), 60)}» ({what})"


def _not_allowed_attribute(m, ctx):
    return f"el atributo «{shown(tag_name(m['attr']), 60)}» no va en «{tag_name(m['tag'])}»: quítelo"


def _where(m) -> str:
    if m["attr"]:
        return f"el atributo «{shown(tag_name(m['attr']), 60)}»"
    return f"el contenido de «{tag_name(m['tag'])}»"


def _bad_value(m, ctx):
    kind, value = m["type"], m["value"]
    where = _where(m)
    if kind == "xs:ID" and value:
        other = ctx.get("same_id_line")
        if other is not None:
            return (f"el id {_value(value)} se repite (ya lo tiene otro elemento, en la línea {other}): cada elemento "
                    "necesita un id distinto; cambie uno de los dos")
    expected = TYPES.get(kind, "otro tipo de valor")
    if not value:
        return f"{where} está vacío: debe ser {expected}"
    return f"{where} vale {_value(value)}, que no sirve: debe ser {expected}"


def _not_in_set(m, ctx):
    where = _where(m)
    options = [o.strip().strip("'") for o in m["set"].split(",")]
    return (f"{where} vale {_value(m['value'])}, que no es uno de los valores permitidos: "
            + ", ".join(_value(o) for o in options[:10]))


def _pattern_value(m, ctx):
    where = _where(m)
    return f"{where} vale {_value(m['value'])}, que no tiene la forma que el esquema pide: corríjalo en el editor"


def _missing_child(m, ctx):
    expected = m["expected"]
    return (f"a «{tag_name(m['tag'])}» le falta un elemento dentro"
            + (f": se espera {_names(expected)}" if expected else "") + "; agréguelo en el editor")


def _unexpected_child(m, ctx):
    expected = m["expected"]
    return (f"«{tag_name(m['tag'])}» no va en este lugar"
            + (f" (aquí se espera {_names(expected)})" if expected else "")
            + ": muévalo adonde corresponde o bórrelo")


def _no_children(m, ctx):
    return f"«{tag_name(m['tag'])}» no puede contener otros elementos: quite lo que tiene dentro"


def _no_text(m, ctx):
    return f"«{tag_name(m['tag'])}» no puede contener texto suelto, solo otros elementos: quite el texto"


def _unknown_type(m, ctx):
    return (f"el tipo {_value(m['value'])} del atributo «xsi:type» no existe en el esquema: use "
            "«bpmn:tFormalExpression» o quite el atributo")


def _key(m, ctx):
    return (f"una referencia de «{tag_name(m['tag'])}» ({_value(m['value'])}) no corresponde a ningún elemento "
            "del archivo: corríjala o bórrela")


def _duplicate_key(m, ctx):
    return f"el valor {_value(m['value'])} se repite en «{tag_name(m['tag'])}»: cada uno debe ser distinto"


Shape = tuple[re.Pattern, Callable]
SHAPES: list[Shape] = [
    (re.compile(_ELEMENT + r": The attribute '(?P<missing>[^']*)' is required but missing\."), _missing_attribute),
    (re.compile(_ELEMENT + _ATTRIBUTE + r": The attribute '[^']*' is not allowed\."), _not_allowed_attribute),
    (re.compile(_ELEMENT + r"(?:" + _ATTRIBUTE + r")?: \[facet 'enumeration'\] The value '(?P<value>[^']*)' is not "
                r"an element of the set \{(?P<set>.*)\}\."), _not_in_set),
    (re.compile(_ELEMENT + r"(?:" + _ATTRIBUTE + r")?: \[facet '[a-zA-Z]+'\] The value '(?P<value>[^']*)'"),
     _pattern_value),
    (re.compile(_ELEMENT + r"(?:" + _ATTRIBUTE + r")?: '(?P<value>[^']*)' is not a valid value of the (?:atomic|list) "
                r"type '(?P<type>[^']*)'\."), _bad_value),
    (re.compile(_ELEMENT + r": Missing child element\(s\)\.(?: Expected is(?: one of)? \( (?P<expected>.*) \))?"),
     _missing_child),
    (re.compile(_ELEMENT + r": This element is not expected\.(?: Expected is(?: one of)? \( (?P<expected>.*) \))?"),
     _unexpected_child),
    (re.compile(_ELEMENT + r": Element content is not allowed, because"), _no_children),
    (re.compile(_ELEMENT + r": Character content (?:other than whitespace )?is not allowed"), _no_text),
    (re.compile(_ELEMENT + _ATTRIBUTE + r": The QName value '(?P<value>[^']*)' of the xsi:type attribute"),
     _unknown_type),
    (re.compile(_ELEMENT + r": No match found for key-sequence \['(?P<value>[^']*)'\]"), _key),
    (re.compile(_ELEMENT + r": Duplicate key-sequence \['(?P<value>[^']*)'\]"), _duplicate_key),
]
_ANY_ELEMENT = re.compile(_ELEMENT)


def element_tag(message: str) -> str | None:
    """The `{namespace}local` tag an lxml schema error is about, if it names one."""
    found = _ANY_ELEMENT.match(message)
    return found["tag"] if found else None


def describe(message: str, schema: str, context: dict | None = None) -> str:
    """lxml's schema error `message` told in Spanish. `schema`: "BPMN 2.0" or "DMN"; `context` may give
    "same_id_line", the line of an element that has the id a refused xs:ID repeats."""
    for pattern, say in SHAPES:
        found = pattern.match(message)
        if found:
            groups = {"attr": None, **found.groupdict()}
            return f"no cumple el esquema {schema} (XSD): {say(groups, context or {})}"
    tag = element_tag(message)
    what = f"«{tag_name(tag)}»" if tag else "este elemento"
    return (f"no cumple el esquema {schema} (XSD) en {what}: revise sus atributos y lo que contiene, o ábralo y "
            "guárdelo de nuevo en un editor BPMN/DMN")
