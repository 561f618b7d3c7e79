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
