"""Expressions written in another modeler's language (issue 17, item 7).

Diagrams drawn in Camunda Modeler or other tools carry conditions, timers and fields in JUEL
(`${score > 5}`, `#{approved}`), FEEL (`[5..8]`, `date and time("…")`, `x = 5`), XPath
(`/pedido/monto`, `bpmn:getDataObject('x')`), cron (`0 0 * * * ?`) or bare ISO 8601 timer values
(`PT30S`, which Camunda reads as a literal and Python as a variable). Here every expression is Python
(run in engine/models/sandbox.py). `foreign()` tells which language a refused expression is in and,
where the translation is mechanical, its Python equivalent (`${score > 5}` → `score > 5`), checked
to compile in the sandbox before it is offered.

Only text that is not valid Python is diagnosed (valid Python is never refused here), except three
shapes whose Python meaning is never what was meant: a bare ISO 8601 timer value (a variable name
to Python), a condition that is a list of values (a tuple, always true) and the FEEL/JUEL literals
`true`, `false` and `null` (names of variables to Python, that no case has: `aprobada == true` fails
when it runs; `literals()` gives the text with True, False and None). Everything here is a
single left-to-right scan of the text (at most sandbox.MAX_SOURCE characters): no regular
expression that could backtrack.
"""

from __future__ import annotations

import ast

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.models import sandbox

PYTHON = "aquí las expresiones se escriben en Python"
_TWO_CHAR = ("&&", "||", "==", "!=", "<=", ">=", "..", "<>")
_ONE_CHAR = "!<>+-*/%()[]{},.?:=;|&$#@^~`\\"
_JUEL_WORDS = {"eq": "==", "ne": "!=", "gt": ">", "lt": "<", "ge": ">=", "le": "<=", "and": "and", "or": "or",
               "not": "not", "empty": "not", "div": "/", "mod": "%", "null": "None", "true": "True",
               "false": "False"}
_JUEL_OPS = {"&&": "and", "||": "or", "!": "not"}
_FEEL_WORDS = {"then", "between", "satisfies", "some", "every", "instance"}
_FEEL_FUNCTIONS = ("date and time", "date", "time", "duration", "years and months duration")
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_CRON_CHARS = set("0123456789*?/,-#LW") | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _scan(text: str):
    """The tokens of `text` as (kind, text): "str", "num", "name", "op", "space"; None on a quote
    that is never closed. One pass, each character looked at a bounded number of times."""
    tokens, i, n = [], 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            j = i
            while j < n and text[j].isspace():
                j += 1
            tokens.append(("space", text[i:j]))
        elif char in "'\"":
            j = i + 1
            while j < n and text[j] != char:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                return None
            j += 1
            tokens.append(("str", text[i:j]))
        elif char.isdigit():
            j = i
            while j < n and (text[j].isdigit() or (text[j] == "." and text[j + 1:j + 2] != ".")):
                j += 1
            tokens.append(("num", text[i:j]))
        elif char.isalpha() or char == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(("name", text[i:j]))
        elif text[i:i + 2] in _TWO_CHAR:
            j = i + 2
            tokens.append(("op", text[i:j]))
        else:
            j = i + 1
            tokens.append(("op", char))
        i = j
    return tokens


def literals(text: str) -> str | None:
    """`text` with the FEEL/JUEL literals true, false and null (as names, not in quotes nor after a dot)
    written as Python's True, False and None; None when it has none of them (or a quote is never closed)."""
    if not text or len(text) > sandbox.MAX_SOURCE:
        return None
    tokens = _scan(text)
    if tokens is None:
        return None
    out, found, previous = [], False, None
    for kind, value in tokens:
        if kind == "name" and value in _LITERALS and previous != ("op", "."):
            out.append(_LITERALS[value])
            found = True
        else:
            out.append(value)
        if kind != "space":
            previous = (kind, value)
    return "".join(out).strip() if found else None


def _python(text: str) -> str | None:
    """`text` if it is an expression the sandbox compiles, else None."""
    text = " ".join(text.split()) if "\n" in text else text.strip()
    if not text or sandbox.check(text, "eval") is not None:
        return None
    return text


_KEYWORDS = {"and", "or", "not", "in", "is", "if", "else"}


def _join(parts: list[str]) -> str:
    """Tokens as Python text, one space between them where Python style puts one."""
    out, prev = [], None
    for part in parts:
        if prev is not None and not (prev in ("(", "[", ".") or part in (")", "]", ",", ".")
                                     or (part in ("(", "[") and prev not in _KEYWORDS
                                         and (prev[-1].isalnum() or prev[-1] in "_)]'\""))):
            out.append(" ")
        out.append(part)
        prev = part
    return "".join(out)


def _juel_to_python(inner: str) -> str | None:
    tokens = _scan(inner)
    if tokens is None:
        return None
    tokens = _variables_read(kind_text for kind_text in tokens if kind_text[0] != "space")
    parts = []
    for kind, text in tokens:
        if kind == "op" and text in _JUEL_OPS:
            parts.append(_JUEL_OPS[text])
        elif kind == "name" and text in _JUEL_WORDS:
            parts.append(_JUEL_WORDS[text])
        elif kind == "op" and text in ("?", ":", "=", "${", "#{", "{", "}", "$", "#"):
            return None  # a conditional or an assignment: no mechanical translation
        else:
            parts.append(text)
    return _python(_join(parts))


_GET_VARIABLE = [("name", "execution"), ("op", "."), ("name", "getVariable"), ("op", "(")]


def _variables_read(tokens) -> list:
    """The tokens with Camunda's `execution.getVariable("x")` as the name `x` (case values are
    names here)."""
    tokens, out, i = list(tokens), [], 0
    while i < len(tokens):
        window = tokens[i:i + 6]
        if window[:4] == _GET_VARIABLE and len(window) == 6 and window[4][0] == "str" and window[5] == ("op", ")") \
                and window[4][1][1:-1].isidentifier():
            out.append(("name", window[4][1][1:-1]))
            i += 6
        else:
            out.append(tokens[i])
            i += 1
    return out


def _juel(text: str):
    stripped = text.strip()
    if len(stripped) < 3 or stripped[:2] not in ("${", "#{") or not stripped.endswith("}"):
        return None
    inner = stripped[2:-1]
    if "${" in inner or "#{" in inner:
        return "JUEL (el lenguaje de expresiones de Camunda)", None
    return "JUEL (el lenguaje de expresiones de Camunda)", _juel_to_python(inner)


def _range_equivalent(tokens) -> str | None:
    """`x in [a..b]` (or `(a..b]`, `]a..b[`, `[a..b)` …) as `a <= x <= b`."""
    words = [(kind, text) for kind, text in tokens if kind != "space"]
    if len(words) == 7 and words[0][0] == "name" and words[1] == ("name", "in") and words[4] == ("op", ".."):
        subject, opening, low, high, closing = words[0][1], words[2][1], words[3], words[5], words[6][1]
    elif len(words) == 5 and words[2] == ("op", ".."):
        subject, opening, low, high, closing = "variable", words[0][1], words[1], words[3], words[4][1]
    else:
        return None
    if opening not in "[(]" or closing not in "])[" or low[0] not in ("num", "str") or high[0] not in ("num", "str"):
        return None
    left = "<=" if opening == "[" else "<"
    right = "<=" if closing == "]" else "<"
    return _python(f"{low[1]} {left} {subject} {right} {high[1]}")


def _feel(text: str, tokens):
    words = [(kind, value) for kind, value in tokens if kind != "space"]
    feel = "FEEL (el lenguaje de expresiones de DMN y Camunda)"
    if ("op", "..") in words:
        return f"{feel}, con un rango", _range_equivalent(tokens)
    lowered = " ".join(text.split()).lower()
    for function in _FEEL_FUNCTIONS:
        if lowered.startswith(function + "(") or lowered.startswith(function + " ("):
            args = [w for w in words if w[0] == "str"]
            whole = len(args) == 1 and words[-1] == ("op", ")")
            return f"{feel}, con la función «{function}»", (args[0][1] if whole else None)
        if f" {function}(" in f" {lowered}" and function != "time" and function != "date":
            return f"{feel}, con la función «{function}»", None
    if any(kind == "name" and value in _FEEL_WORDS for kind, value in words):
        return feel, None
    if ("op", "=") in words and ("op", "==") not in words:
        parts = ["==" if (kind, value) == ("op", "=") else value for kind, value in tokens]
        equivalent = _python("".join(parts))
        if equivalent:  # only then is it surely a FEEL comparison, not a typo
            return f"{feel}, que compara con «=»", equivalent
    return None


def _xpath(text: str, tokens):
    stripped = text.strip()
    names = [value for kind, value in tokens if kind == "name"]
    path = stripped.lstrip("/")
    if (stripped.startswith("/") and path[:1].isalpha()) or ("bpmn" in names and ("op", ":") in tokens):
        xpath = "XPath"
        words = [(kind, value) for kind, value in tokens if kind != "space"]
        if len(words) == 6 and words[:3] == [("name", "bpmn"), ("op", ":"), ("name", "getDataObject")] \
                and words[3] == ("op", "(") and words[4][0] == "str" and words[5] == ("op", ")"):
            return xpath, _python(words[4][1][1:-1])
        return xpath, None
    return None


def _cron(text: str):
    fields = text.split()
    if not 5 <= len(fields) <= 7:
        return None
    if not all(set(field) <= _CRON_CHARS for field in fields):
        return None
    if not any(ch in field for field in fields for ch in "*?"):
        return None
    return "cron (como en Quartz y Camunda)", None


_ISO_KINDS = {"timeDuration": "duración", "timeDate": "fecha", "timeCycle": "ciclo"}


def _iso_kind(text: str) -> str | None:
    """What a bare ISO 8601 timer value is ("duración", "fecha", "ciclo"; what Camunda reads as a
    literal), or None if it is not one SpiffWorkflow reads."""
    value = text.strip()
    if not value or value[0] in "'\"" or len(value) > 200:
        return None
    try:
        if value.upper().startswith("R"):
            TimerEventDefinition.parse_iso_recurring_interval(value)
            return "ciclo"
        parsed = TimerEventDefinition.parse_time_or_duration(value)
    except Exception:  # noqa: BLE001 - not an ISO value SpiffWorkflow reads
        return None
    return "duración" if isinstance(parsed, dict) else "fecha"


def _message(what: str, language: str, equivalent: str | None, hint: str | None = None) -> str:
    text = f"{what} está en {language}; {PYTHON}"
    if equivalent:
        return f"{text}: escriba «{equivalent}»"
    return f"{text}" + (f": {hint}" if hint else ": escriba su equivalente en Python")


def foreign(source: str | None, what: str, timer: str | None = None, condition: bool = False) -> str | None:
    """Why `source` (the text of `what`: "la condición", "la expresión del temporizador" …) is in
    another language, in Spanish, with its Python equivalent where it is mechanical; None when it
    is not recognised as one. `timer`: the timer's kind (timeDate, timeDuration, timeCycle)."""
    if not source or not source.strip() or len(source) > sandbox.MAX_SOURCE:
        return None
    iso = _iso_kind(source) if timer else None
    if iso:
        text = (f"{what} es un valor ISO 8601 sin comillas (así lo escribe Camunda); {PYTHON}, donde "
                f"{source.strip()} sería el nombre de un dato: escriba «\"{source.strip()}\"»")
        if iso != _ISO_KINDS[timer]:
            kind = next(k for k, v in _ISO_KINDS.items() if v == iso)
            article = "un" if iso == "ciclo" else "una"
            text += f", y como es {article} {iso}, use un temporizador {kind} (este es {timer})"
        return text
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    if tree is not None:
        lowered = " ".join(source.split()).lower()
        if "date and time(" in lowered or "date and time (" in lowered:  # Python reads `date and time(…)`
            return _message(what, "FEEL (el lenguaje de expresiones de DMN y Camunda), con la función "
                                  "«date and time»", None, "en Python las fechas son textos ISO 8601, como "
                                                           "«\"2026-03-02T09:00:00\"», o datetime.fromisoformat(…)")
        equivalent = literals(source)
        if equivalent and _python(equivalent):
            return _message(what, "FEEL o JUEL (con los valores true, false o null)", _python(equivalent))
        if condition and isinstance(tree.body, ast.Tuple) and tree.body.elts and \
                all(isinstance(e, ast.Constant) for e in tree.body.elts):
            values = ", ".join(ast.unparse(e) for e in tree.body.elts)
            return _message(what, "FEEL (una lista de valores, prueba unaria de DMN)", None,
                            f"en Python una lista sola siempre es verdadera; compare un dato, por ejemplo "
                            f"«variable in ({values})»")
        return None
    found = _juel(source)
    if found is None:
        tokens = _scan(source)
        if tokens is not None:
            found = _xpath(source, tokens) or _feel(source, tokens)
            if found is None and any(kind == "op" and text in _JUEL_OPS for kind, text in tokens):
                equivalent = _juel_to_python(source)
                if equivalent:  # only then is it surely those operators, not a typo
                    found = "JUEL o Java (con los operadores &&, ||, !)", equivalent
    if found is None and timer:
        found = _cron(source)
        if found is not None:
            return _message(what, found[0], None, "los temporizadores aquí usan intervalos ISO 8601, por ejemplo "
                                                   "«\"R/PT1H\"» (cada hora) o «\"R3/P1D\"» (3 veces, una por día)")
    if found is None:
        return None
    language, equivalent = found
    return _message(what, language, equivalent)
