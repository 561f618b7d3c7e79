"""Choosing the executive in charge of a company (SPEC §4; §3.4.2 block 4: at most 50
companies per executive, grouped by rubro)."""

EXECUTIVE_CAP = 50  # companies in charge of one executive


def choose_executive(candidates, rubro, cap: int = EXECUTIVE_CAP) -> dict:
    """Pick among `candidates` (already of the right role and region).

    Specialists in the rubro come first, then generalists (no rubros listed); among them
    the least loaded, ties broken by username. Nobody at or above the cap is chosen:
    then the task goes to the regional pool.
    """
    def eligible(candidate):
        return candidate["carga"] < cap

    specialists = [c for c in candidates if rubro and rubro in (c.get("rubros") or []) and eligible(c)]
    generalists = [c for c in candidates if not c.get("rubros") and eligible(c)]
    for group in (specialists, generalists):
        if group:
            best = min(group, key=lambda c: (c["carga"], c["username"]))
            return {"ejecutivo": best["username"], "carga": best["carga"]}
    return {"ejecutivo": None, "carga": None, "pool": True}



# What the regional head decides when nobody could be assigned (the `fijar_ejecutivo` operator).
LEAST_LOADED, NAMED = "menor_carga", "ejecutivo_indicado"
HEAD_DECISIONS = (LEAST_LOADED, NAMED)


def head_choice(candidates, decision: str, usuario: str | None, role: str, region: str, rubro=None,
                account: dict | None = None, role_label: str | None = None, region_label: str | None = None,
                cap: int = EXECUTIVE_CAP) -> dict:
    """The executive the regional head puts in charge of a company nobody could take
    (§3.4.2 block 4: at most `cap` companies each; the head may go over it knowingly).

    `candidates`: the active users of `role` in `region` with their load (`username`, `rubros`,
    `carga`); `account`: the user named `usuario` wherever it is (`role`, `region`, `active`), to
    say why it does not fit. Result: `{"ejecutivo", "carga", "sobre_tope", "motivo": None}`, or
    `{"ejecutivo": None, ..., "motivo": <Spanish sentence>}` when the choice cannot be made.
    """
    role_label, region_label = role_label or role, region_label or region
    if decision == LEAST_LOADED:
        if not candidates:
            return _refused(f"{region_label} no tiene usuarios activos con el rol {role_label}: cree o active "
                            "uno en Usuarios y vuelva a intentarlo.")
        # the least loaded; among equals a specialist in the rubro, then by username
        best = min(candidates, key=lambda c: (c["carga"], not (rubro and rubro in (c.get("rubros") or [])),
                                              c["username"]))
    elif decision == NAMED:
        name = (usuario or "").strip()
        if not name:
            return _refused("Indique el usuario del ejecutivo que quedará a cargo.")
        best = next((c for c in candidates if c["username"] == name), None)
        if best is None:
            if account is None:
                return _refused(f"No existe el usuario «{name}».")
            if not account.get("active", True):
                return _refused(f"El usuario «{name}» está desactivado.")
            if account.get("role") != role:
                return _refused(f"El usuario «{name}» no tiene el rol {role_label}.")
            if account.get("region") != region:
                return _refused(f"El usuario «{name}» no pertenece a {region_label}.")
            return _refused(f"El usuario «{name}» no puede quedar a cargo de esta empresa.")
    else:
        return _refused("Elija una de las opciones de asignación.")
    return {"ejecutivo": best["username"], "carga": best["carga"] + 1, "sobre_tope": best["carga"] >= cap,
            "motivo": None}


def _refused(message: str) -> dict:
    return {"ejecutivo": None, "carga": None, "sobre_tope": False, "motivo": message}
