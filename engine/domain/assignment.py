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


# How the regional head redistributes the open cases of one executive to another (the
# `redistribuir_casos` operator, process redistribuir_cartera).
HOW_MANY, ALL_CASES, LISTED = "cantidad", "todas", "indicadas"
REDISTRIBUTION_MODES = (HOW_MANY, ALL_CASES, LISTED)


def redistribution_plan(cases, desde: str | None, hacia: str | None, modo: str, *, source: dict | None,
                        target: dict | None, role: str, region: str, cantidad: int | None = None,
                        indicadas=None, role_label: str | None = None, region_label: str | None = None,
                        cap: int = EXECUTIVE_CAP) -> dict:
    """Which open cases of `desde` go to `hacia` (§3.4.2 block 4: at most `cap` companies each,
    grouped by rubro), or why none can.

    `cases`: the open cases in charge of `desde` in the region (`id`, `rubro`); `source` and `target`:
    the accounts named `desde` and `hacia` wherever they are (`role`, `region`, `active`; the target
    also `carga`, its open cases, and `rubros`), None if there is no such user. The executive who
    hands over may be inactive (one who left); the one who receives must be active.

    `modo`: `todas` (every open case: an executive who leaves), `cantidad` (that many: the cases of
    the rubros the receiver specialises in first, then the newest, which have the least history with
    the one who hands them over), `indicadas` (the case numbers listed in `indicadas`).
    The receiver never goes over the cap: a plan that would is refused with how many still fit.

    Result: `{"casos": [ids, ascending], "carga_desde", "carga_hacia", "motivo": None}`, or
    `{"casos": [], ..., "motivo": <Spanish sentence>}`.
    """
    role_label, region_label = role_label or role, region_label or region
    desde, hacia = (desde or "").strip(), (hacia or "").strip()
    if modo not in REDISTRIBUTION_MODES:
        return _not_moved("Elija una de las opciones de redistribución.")
    if not desde:
        return _not_moved("Indique el usuario del ejecutivo que entrega empresas.")
    if not hacia:
        return _not_moved("Indique el usuario del ejecutivo que recibe las empresas.")
    if desde == hacia:
        return _not_moved("El ejecutivo que entrega y el que recibe deben ser distintos.")
    for name, account, must_be_active in ((desde, source, False), (hacia, target, True)):
        reason = _account_problem(name, account, role, region, role_label, region_label, must_be_active)
        if reason:
            return _not_moved(reason)
    open_cases = {c["id"]: c for c in cases}
    if not open_cases:
        return _not_moved(f"«{desde}» no tiene empresas en curso a su cargo.")
    if modo == ALL_CASES:
        chosen = sorted(open_cases)
    elif modo == HOW_MANY:
        if not isinstance(cantidad, int) or isinstance(cantidad, bool) or cantidad < 1:
            return _not_moved("Indique cuántas empresas se traspasan (1 o más).")
        if cantidad > len(open_cases):
            return _not_moved(f"«{desde}» tiene {len(open_cases)} empresas en curso a su cargo: "
                              f"no puede traspasar {cantidad}.")
        rubros = set(target.get("rubros") or [])
        ranked = sorted(open_cases.values(), key=lambda c: (c.get("rubro") not in rubros, -c["id"]))
        chosen = sorted(c["id"] for c in ranked[:cantidad])
    else:
        listed = list(dict.fromkeys(indicadas or []))
        if not listed:
            return _not_moved("Indique los números de los casos que se traspasan.")
        foreign = [n for n in listed if n not in open_cases]
        if foreign:
            numbers = ", ".join(f"#{n}" for n in foreign)
            return _not_moved(f"No están en curso a cargo de «{desde}» en {region_label}: {numbers}.")
        chosen = sorted(listed)
    load = target.get("carga", 0)
    if load + len(chosen) > cap:
        room = max(cap - load, 0)
        return _not_moved(f"«{hacia}» tiene {load} de {cap} empresas a cargo: puede recibir {room} más, "
                          f"no {len(chosen)}. Elija menos empresas u otro ejecutivo.")
    return {"casos": chosen, "carga_desde": len(open_cases) - len(chosen), "carga_hacia": load + len(chosen),
            "motivo": None}


def _account_problem(name, account, role, region, role_label, region_label, must_be_active) -> str | None:
    if account is None:
        return f"No existe el usuario «{name}»."
    if must_be_active and not account.get("active", True):
        return f"El usuario «{name}» está desactivado."
    if account.get("role") != role:
        return f"El usuario «{name}» no tiene el rol {role_label}."
    if account.get("region") != region:
        return f"El usuario «{name}» no pertenece a {region_label}."
    return None


def _not_moved(message: str) -> dict:
    return {"casos": [], "carga_desde": None, "carga_hacia": None, "motivo": message}
