"""Deploy-time checks of a DMN decision table, as SpiffWorkflow will run it.

SpiffWorkflow evaluates every cell as a Python expression in the sandbox (not FEEL): an input
cell is compared with its input expression (`< 35`, `"rojo"`, `5 < ? < 10`, `-` for any value)
and an output cell is evaluated as it is. Each problem names the rule (row number and id) and
the column, so the analyst finds the cell in the editor.
"""

from __future__ import annotations

import keyword
import re

from engine.models import expression_languages, sandbox

HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT")  # what SpiffWorkflow's DMN engine implements
_QUESTION = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # "?" outside quotes, as SpiffWorkflow does


def label_variable(column) -> str | None:
    """The case variable an input without an input expression reads: its label, when that is a plain
    variable name (SpiffWorkflow then takes the value of the case variable so named; Camunda Modeler
    leaves the expression empty when the label says it); None otherwise."""
    label = (column.get("label") or "").strip()
    if label.isidentifier() and not keyword.iskeyword(label) and not label.startswith("_"):
        return label
    return None


def input_entry_problem(text: str | None) -> str | None:
    """Why an input cell cannot be evaluated, or None. Empty or "-" means any value."""
    if text is None or text.strip() == "-":
        return None
    if not text.strip():
        return "la celda solo tiene espacios: déjela vacía o escriba - (cualquier valor)"
    source = text.strip()
    if len(source) > sandbox.MAX_SOURCE:  # before the regex below, which is quadratic in the "?" it finds
        return f"el código supera {sandbox.MAX_SOURCE} caracteres"
    if _QUESTION.search(source):
        return sandbox.check(_QUESTION.sub("dmninputexpr", source), "eval") or _feel_literals(source)
    if sandbox.check(source, "eval") is None:  # a value compared with ==
        return _feel_literals(source)
    return sandbox.check(f"dmninputexpr {source}", "eval") or _feel_literals(source)  # "< 35", "in [1, 2]"


def output_entry_problem(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    return sandbox.check(text.strip(), "eval") or _feel_literals(text.strip())


def _feel_literals(source: str) -> str | None:
    """Why a cell that names true, false or null (FEEL's literals, variables to Python: the case would fail
    when the table runs) cannot stay as it is, with its Python spelling; None if it names none."""
    equivalent = expression_languages.literals(source)
    if equivalent is None:
        return None
    return ("true, false y null son valores de FEEL (el lenguaje de DMN de Camunda); aquí las celdas se escriben "
            f"en Python: escriba «{equivalent}»")


def _text(node, ns):
    text = node.find("dmn:text", ns)
    return text.text if text is not None else None


def table_problems(decision, ns) -> list[tuple[object, str]]:
    """(node, message) for each problem of the decision's table: hit policy, columns, cells (see
    `table_warnings` for what is told but does not refuse it)."""
    return _table_checks(decision, ns)[0]


def table_warnings(decision, ns) -> list[tuple[object, str]]:
    """(node, message) for what is told about the decision's table without refusing it: an input read
    from the case variable its label names."""
    return _table_checks(decision, ns)[1]


def _table_checks(decision, ns) -> tuple[list, list]:
    table = decision.find("dmn:decisionTable", ns)
    if table is None:
        return [(decision, "la decisión no tiene una tabla de decisión (decisionTable)")], []
    problems, warnings = [], []
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in HIT_POLICIES:
        problems.append((table, f"la política de aciertos {policy} no la ejecuta el motor; use "
                                f"{', '.join(HIT_POLICIES)}"))
    if table.get("aggregation"):
        problems.append((table, f"el motor no calcula la agregación {table.get('aggregation')} de COLLECT; "
                                "quítela (COLLECT entrega la lista de resultados)"))
    inputs = table.findall("dmn:input", ns)
    outputs = table.findall("dmn:output", ns)
    for column in inputs:
        expression = column.find("dmn:inputExpression", ns)
        if expression is not None and (_text(expression, ns) or "").strip():
            continue
        name = label_variable(column)
        if name:
            warnings.append((column, f"la entrada «{name}» no tiene expresión: se leerá la variable del caso "
                                     f"«{name}», como dice su etiqueta (si el caso no la tiene, la decisión fallará)"))
        else:
            problems.append((column, f"la entrada «{column.get('label') or column.get('id')}» no tiene expresión: "
                                     "escriba la expresión que da su valor (por ejemplo, el nombre de una variable "
                                     "del caso), o nombre la entrada como esa variable"))
    if not outputs:
        problems.append((table, "la tabla no tiene columnas de salida"))
    for column in outputs:
        if len(outputs) > 1 and not (column.get("name") or "").strip():
            problems.append((column, f"la salida «{column.get('label') or column.get('id')}» no tiene nombre "
                                     "(la variable que recibe el resultado)"))
    for row, rule in enumerate(table.findall("dmn:rule", ns), start=1):
        where = f"regla {row} ({rule.get('id')})"
        cells = rule.findall("dmn:inputEntry", ns)
        results = rule.findall("dmn:outputEntry", ns)
        if len(cells) != len(inputs) or len(results) != len(outputs):
            problems.append((rule, f"{where}: no tiene una celda por columna"))
            continue
        for column, cell in zip(inputs, cells, strict=True):
            reason = input_entry_problem(_text(cell, ns))
            if reason:
                problems.append((cell, f"{where}, entrada «{column.get('label') or column.get('id')}»: "
                                       f"«{_text(cell, ns)}» no es una condición válida: {reason}"))
        for column, cell in zip(outputs, results, strict=True):
            reason = output_entry_problem(_text(cell, ns))
            if reason:
                problems.append((cell, f"{where}, salida «{column.get('label') or column.get('name')}»: "
                                       f"«{_text(cell, ns)}» no es una expresión válida: {reason} "
                                       '(los textos van entre comillas: "verde")'))
    return problems, warnings
