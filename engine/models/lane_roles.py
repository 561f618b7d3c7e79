"""Which role works each user task of a diagram: lanes named anything, mapped to our roles.

A lane may be named after a role (its id `ejecutivo_cpe`, or its name "Ejecutivo CPE" or "Analista":
case, accents, spaces and hyphens do not matter) and then maps by itself. Any other lane ("Ventas",
"Gerencia") is mapped to a role when the process is deployed: by the analyst (the deploy form, or
`cpe deploy --lane "Ventas=ejecutivo_cpe"`), or else as the previous version of the same process
mapped it (the mapping is remembered per process: each process version pins, in its
`dependencies["lanes"]`, the mapping of its lanes that are not named after a role), or else, when
every user task of the lane names the same role in `camunda:candidateGroups`, that role.

A user task's role, in order: the first group of its `camunda:candidateGroups` that is (or maps to)
a role; the role of its lane; with no lane, DEFAULT_ROLE (`analista`): the task is offered to the
analysts of the case's region and to the analysts without a region (national), as any task of the
lane `analista` (engine/domain/roles.py).

A user task may also name its person, as Camunda Modeler writes it: `camunda:assignee="ana"` or
`camunda:candidateUsers="ana, pedro"` (`assignment`). The task is then given to the first of those users
that exists when it becomes ready (the others are not offered it: a task here has one assignee); with none
that exists it stays offered to its role, and deploy says so in a warning. `camunda:assignee="${variable}"`
gives the task to the user the case variable names (as the `asignadoA` property does). Any other JUEL
expression cannot be read here: a warning, and the task stays offered to its role.

SpiffArena has no lane-owner attribute in the XML (it reads a `lane_owners` variable at run time, or
takes the lane's name as a group): the name of a SpiffArena lane is therefore read as above.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from engine.domain import roles

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
DEFAULT_ROLE = roles.ANALISTA
MAX_LABEL = 300  # as an element's name (engine/models/validation.py MAX_NAME)
MAX_PAIRS = 200


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("(a)", "")
    for sep in (" ", "-", "\t"):
        text = text.replace(sep, "_")
    return "_".join(p for p in text.split("_") if p)


_BY_NAME = {}
for _role in roles.ROLES:
    _BY_NAME[_normal(_role)] = _role
    _BY_NAME[_normal(roles.LABELS[_role].replace("(a)", ""))] = _role


def role_named(text) -> str | None:
    """The role `text` names ("ejecutivo_cpe", "Ejecutivo CPE", "ANALISTA", "Jefe(a) regional"), or None."""
    if not isinstance(text, str) or len(text) > MAX_LABEL:
        return None
    return _BY_NAME.get(_normal(text))


def shown(text: str, limit: int = 60) -> str:
    """`text` safe to put in a message: control characters and lone surrogates escaped, cut at `limit`."""
    out = []
    for ch in text[:limit]:
        if unicodedata.category(ch) in ("Cc", "Cs", "Cf", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out) + ("…" if len(text) > limit else "")


def clean_label(text) -> str:
    """A lane's name as the analyst gives it in a mapping; ValueError (Spanish) if it cannot be one."""
    if not isinstance(text, str):
        raise ValueError("el nombre del carril debe ser un texto")
    label = text.strip()
    if not label:
        raise ValueError("falta el nombre del carril (use «Carril=rol»)")
    if len(label) > MAX_LABEL:
        raise ValueError(f"el nombre del carril «{shown(label)}» tiene más de {MAX_LABEL} caracteres")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in label):
        raise ValueError(f"el nombre del carril «{shown(label)}» tiene caracteres de control o inválidos")
    return label


def check_mapping(mapping) -> dict:
    """{lane name: role} as given (role by its id or its name); ValueError (Spanish) naming the first bad pair.
    An empty role means "not given" and is left out."""
    if not isinstance(mapping, dict):
        raise ValueError("la asignación de carriles debe ser un objeto {carril: rol}")
    if len(mapping) > MAX_PAIRS:
        raise ValueError(f"demasiados carriles en la asignación (máximo {MAX_PAIRS})")
    clean = {}
    for lane, role in mapping.items():
        label = clean_label(lane)
        if role is None or (isinstance(role, str) and not role.strip()):
            continue
        found = role_named(role)
        if found is None:
            given = shown(role) if isinstance(role, str) else "?"
            raise ValueError(f"rol desconocido «{given}» para el carril «{shown(label)}»; "
                             f"roles: {', '.join(roles.ROLES)}")
        clean[label] = found
    return clean


def parse_pairs(pairs) -> dict:
    """The mapping of `--lane "Carril=rol"` options (repeatable); ValueError (Spanish) if one is malformed."""
    mapping = {}
    for pair in pairs or ():
        if not isinstance(pair, str) or "=" not in pair:
            raise ValueError(f"asignación de carril inválida «{shown(str(pair))}»: use --lane \"Carril=rol\"")
        lane, role = pair.rsplit("=", 1)
        if not role.strip():
            raise ValueError(f"falta el rol del carril «{shown(lane.strip())}»: use --lane \"Carril=rol\"")
        mapping[lane] = role
    return check_mapping(mapping)


def label(lane) -> str:
    """How a lane is named in a mapping: its name, or its id if it has none."""
    return (lane.get("name") or "").strip() or (lane.get("id") or "")


def candidate_role(node, given=None, remembered=None) -> str | None:
    """The role a task's `camunda:candidateGroups` names: its first group that is a role or is mapped."""
    for group in candidate_groups(node):
        found = role_named(group) or (given or {}).get(group) or (remembered or {}).get(group)
        if found:
            return found
    return None


def candidate_groups(node) -> list[str]:
    """The names in a task's `camunda:candidateGroups` (the first 50)."""
    return [g.strip() for g in (node.get(f"{{{CAMUNDA}}}candidateGroups") or "").split(",")[:50] if g.strip()]


def user_tasks(process) -> dict:
    """The user tasks of `process` by id (read once per process, not once per lane)."""
    return {n.get("id"): n for n in process.iter(f"{{{BPMN}}}userTask")}


def lane_role(lane, process, given=None, remembered=None, tasks=None) -> tuple[str | None, bool]:
    """(role of the lane, whether it comes from a mapping that must be pinned) — (None, False) if unmapped.
    Order: a lane named after a role; the mapping given at deploy (by name or id); the mapping remembered
    from the previous version; the one role every user task the lane lists names in camunda:candidateGroups.
    `tasks`: user_tasks(process), if the caller has it."""
    given, remembered = given or {}, remembered or {}
    ident, name = lane.get("id") or "", label(lane)
    if ident in roles.ROLES:
        return ident, False
    found = role_named(name) or role_named(ident)
    if found:
        return found, False
    for key in (name, ident):
        if key in given:
            return given[key], True
    for key in (name, ident):
        if remembered.get(key) in roles.ROLES:  # a stored role that no longer exists is not remembered
            return remembered[key], True
    tasks = user_tasks(process) if tasks is None else tasks
    listed = [tasks[ref.text.strip()] for ref in lane.findall(f"{{{BPMN}}}flowNodeRef")
              if ref.text and ref.text.strip() in tasks]
    named = {candidate_role(t, given, remembered) for t in listed}
    if len(named) == 1 and None not in named:
        return named.pop(), False
    return None, False


def _roles(process, given, remembered):
    """(lane, role, pinned) for every lane of `process`."""
    tasks = user_tasks(process)
    for lane in process.iter(f"{{{BPMN}}}lane"):
        yield (lane, *lane_role(lane, process, given, remembered, tasks))


def pinned(process, given=None, remembered=None) -> dict:
    """{lane name: role} of the lanes of `process` mapped by the analyst (now or before), and {group: role} of
    the candidateGroups names of its user tasks resolved through those mappings: what a version pins (the
    run reads only what is pinned)."""
    found = {label(lane): role for lane, role, pin in _roles(process, given, remembered) if pin}
    for node in user_tasks(process).values():
        for group in candidate_groups(node):
            if not role_named(group) and group not in found:
                role = (given or {}).get(group) or (remembered or {}).get(group)
                if role:
                    found[group] = role
    return found


def unmapped(process, given=None, remembered=None) -> list:
    """The lanes of `process` no rule maps to a role."""
    return [lane for lane, role, _pin in _roles(process, given, remembered) if role is None]


def suggestions(process, given=None, remembered=None) -> list[dict]:
    """Every lane not named after a role: {"lane": name, "role": the role it maps to now or None} (the deploy form)."""
    return [{"lane": label(lane), "role": role} for lane, role, _pin in _roles(process, given, remembered)
            if not ((lane.get("id") or "") in roles.ROLES or role_named(label(lane)) or role_named(lane.get("id")))]


_JUEL_NAME = re.compile(r"^\s*[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\s*$")
MAX_CANDIDATES = 20


@dataclass(frozen=True)
class Assignment:
    """Who a user task names: `users` (usernames, in order), `expression` (a case variable holding the
    username) and `unread` (JUEL expressions that cannot be read here)."""

    users: tuple = ()
    expression: str | None = None
    unread: tuple = ()


def assignment(node) -> Assignment:
    """The person a user task names in camunda:assignee and camunda:candidateUsers."""
    users, expression, unread = [], None, []
    assignee = (node.get(f"{{{CAMUNDA}}}assignee") or "").strip()
    candidates = [c.strip() for c in (node.get(f"{{{CAMUNDA}}}candidateUsers") or "").split(",")[:MAX_CANDIDATES]]
    for index, text in enumerate([assignee, *candidates]):
        if not text:
            continue
        variable = _JUEL_NAME.match(text)
        if variable and index == 0 and not variable.group(1).startswith("_"):
            expression = variable.group(1)
        elif "{" in text or len(text) > 80 or any(ch.isspace() for ch in text):
            unread.append(text)
        elif text not in users:
            users.append(text)
    return Assignment(tuple(users), expression, tuple(unread))
