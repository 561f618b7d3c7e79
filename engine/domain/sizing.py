"""Company size by annual sales in UF (Ley 20.416 tramos; SPEC §1 step 2).

Micro (< 2 400 UF) and grande (> 100 000 UF) are not CPE targets (thesis note to §3.1.3).
"""

import math
from decimal import Decimal, InvalidOperation

MICRO_BELOW = 2400
PEQUENA_UP_TO = 25000
MEDIANA_UP_TO = 100000
_MESSAGE = "ventas_uf debe ser un número mayor o igual a 0"


def _as_number(value) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError(_MESSAGE)
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(_MESSAGE) from None
    if not isinstance(value, (int, float, Decimal)):
        raise ValueError(_MESSAGE)
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(_MESSAGE)
    return number


def classify_size(ventas_uf) -> dict:
    sales = _as_number(ventas_uf)
    if sales < MICRO_BELOW:
        tramo = "micro"
    elif sales <= PEQUENA_UP_TO:
        tramo = "pequena"
    elif sales <= MEDIANA_UP_TO:
        tramo = "mediana"
    else:
        tramo = "grande"
    return {"tramo": tramo, "elegible": tramo in ("pequena", "mediana")}
