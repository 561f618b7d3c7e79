"""The parameter checks an operator declares (engine.operators.dispatch runs them before the operator).

Each check takes the value a diagram gave and returns the clean value, or raises ValueError with the
end of a Spanish sentence ("parámetro 'x' <message>"). `text` and `choice` build a check.
"""

from __future__ import annotations

import math
from datetime import date

from engine.domain.regions import is_region


def number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("debe ser un número")
    return value


def text(max_len=2000):
    def check(value):
        if not isinstance(value, str) or not value.strip():
            raise ValueError("debe ser un texto no vacío")
        if len(value) > max_len:
            raise ValueError(f"no puede superar {max_len} caracteres")
        return value.strip()
    return check


def choice(options):
    def check(value):
        if value not in options:
            raise ValueError(f"debe ser uno de: {', '.join(options)}")
        return value
    return check


def region(value):
    if not isinstance(value, str) or not is_region(value):
        raise ValueError("debe ser un código de región ISO 3166-2:CL (p. ej. CL-RM)")
    return value


def answers(value):
    if not isinstance(value, dict):
        raise ValueError("debe ser un objeto con las respuestas")
    return value


def iso_date(value):
    if not isinstance(value, str):
        raise ValueError("debe ser una fecha ISO (AAAA-MM-DD)")
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("debe ser una fecha ISO válida (AAAA-MM-DD)") from None
    if len(value.strip()) != 10:
        raise ValueError("debe ser una fecha ISO (AAAA-MM-DD)")
    return parsed.isoformat()


def positive_amount(value):
    number(value)
    if value <= 0:
        raise ValueError("debe ser mayor que 0")
    return float(value)


def optional_region(value):
    return None if value is None or value == "" else region(value)


def optional_text(value):
    if value is None or value == "":
        return None
    return text(120)(value)


def boolean(value):
    if not isinstance(value, bool):
        raise ValueError("debe ser verdadero o falso (True o False)")
    return value


def months(value):
    """A whole number of calendar months, 1 to 120 (a validity period such as the TPE's 12 months)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 120:
        raise ValueError("debe ser un número entero de meses entre 1 y 120")
    return value


def text_list(max_items=20, max_len=120):
    """A non-empty list of texts (each at most `max_len`), e.g. the catalogue keys a form's
    multiple choice gives."""
    def check(value):
        if not isinstance(value, list) or not value:
            raise ValueError("debe ser una lista no vacía de textos")
        if len(value) > max_items:
            raise ValueError(f"no puede tener más de {max_items} elementos")
        return [text(max_len)(item) for item in value]
    return check


def optional_count(value):
    """A whole number of 0 or more, or None (not given)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
        raise ValueError("debe ser un número entero mayor o igual a 0")
    return int(value)


def case_numbers(value, max_items=200):
    """A list of case numbers (integers, or texts such as "12" or "#12" a form's lines give), or None."""
    if value is None or value == "" or value == []:
        return None
    if not isinstance(value, list):
        raise ValueError("debe ser una lista de números de caso")
    if len(value) > max_items:
        raise ValueError(f"no puede tener más de {max_items} elementos")
    numbers = []
    for item in value:
        text_value = item.strip().lstrip("#").strip() if isinstance(item, str) else ""
        digits = text_value.isascii() and text_value.isdigit() and len(text_value) <= 12
        if isinstance(item, int) and not isinstance(item, bool) and item > 0:
            numbers.append(item)
        elif digits and int(text_value) > 0:
            numbers.append(int(text_value))
        else:
            raise ValueError(f"tiene «{item}», que no es un número de caso")
    return numbers
