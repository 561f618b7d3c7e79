"""Chilean RUT: validated and formatted by python-stdnum, with messages in Spanish."""

from stdnum.cl import rut as _rut
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength


def normalize_rut(value) -> str:
    """Return the RUT as 76.086.428-5, or raise ValueError saying what is wrong."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("RUT inválido: formato incorrecto")
    try:
        return _rut.format(_rut.validate(value.strip()))
    except InvalidChecksum:
        raise ValueError("RUT inválido: dígito verificador incorrecto") from None
    except (InvalidFormat, InvalidLength, InvalidComponent):
        raise ValueError("RUT inválido: formato incorrecto") from None


def is_valid_rut(value) -> bool:
    try:
        normalize_rut(value)
    except ValueError:
        return False
    return True
