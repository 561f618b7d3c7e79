"""Roles and what each may do (SPEC §9): the one place a role's name is written.

A role is also a lane: a diagram's lane names the role whose users are offered its tasks, in the
case's region (a lane named otherwise is mapped to a role at deploy, and a task in no lane goes to
`analista`: engine/models/lane_roles.py). Staff sign in to the web app and the API; companies
(pyme) only use their portal link. Analysts see every region; the other staff roles are regional
and need a region.

A permission is a name; `PERMISSIONS` says which roles hold it. Views, the API and the engine ask
`may(user, permission)`: a new role or a changed right touches only this module.
"""

PYME = "pyme"
EJECUTIVO_CPE = "ejecutivo_cpe"
EJECUTIVO_PROCHILE = "ejecutivo_prochile"
JEFE_REGIONAL = "jefe_regional"
ANALISTA = "analista"

ROLES = (PYME, EJECUTIVO_CPE, EJECUTIVO_PROCHILE, JEFE_REGIONAL, ANALISTA)  # the lanes a diagram may name
LABELS = {ANALISTA: "Analista de procesos", EJECUTIVO_CPE: "Ejecutivo(a) CPE",
          EJECUTIVO_PROCHILE: "Ejecutivo(a) ProChile", JEFE_REGIONAL: "Jefe(a) regional", PYME: "Empresa"}
REGIONAL = (EJECUTIVO_CPE, EJECUTIVO_PROCHILE, JEFE_REGIONAL)  # must have a region
EXECUTIVES = (EJECUTIVO_CPE, EJECUTIVO_PROCHILE)  # in charge of companies: registry and indicator filters

SIGN_IN = "sign_in"  # web session and API token (companies use their portal link instead)
ALL_REGIONS = "all_regions"  # not limited to one region: every case, company and list
MANAGE_MODELS = "manage_models"  # models area: deploy, edit, migrate, simulate
REPAIR_CASES = "repair_cases"  # retry or skip a case's failed step
SEE_AUDIT = "see_audit"  # the personal-data audit, also a company's recent accesses
SEE_INDICATORS = "see_indicators"
SEE_EXECUTIVES = "see_executives"  # the executives' performance and export credit (thesis §3.4.2 block 4)
SEE_REGISTRY = "see_registry"
SEE_BENEFITS = "see_benefits"
SEE_OUTBOX = "see_outbox"  # the outbox: every message, its text and its delivery state
MANAGE_WORKSHOPS = "manage_workshops"  # create sessions, register companies, take attendance
START_CASES = "start_cases"  # through the API
WORK_TASKS = "work_tasks"  # claim and complete the tasks of one's lanes

PERMISSIONS = {
    SIGN_IN: {ANALISTA, *REGIONAL},
    ALL_REGIONS: {ANALISTA},
    MANAGE_MODELS: {ANALISTA},
    REPAIR_CASES: {ANALISTA},
    SEE_AUDIT: {ANALISTA},
    SEE_INDICATORS: {ANALISTA, *REGIONAL},
    SEE_EXECUTIVES: {JEFE_REGIONAL, ANALISTA},
    SEE_REGISTRY: {ANALISTA, *REGIONAL},
    SEE_BENEFITS: {JEFE_REGIONAL, ANALISTA},
    SEE_OUTBOX: {ANALISTA},
    MANAGE_WORKSHOPS: {EJECUTIVO_CPE, JEFE_REGIONAL, ANALISTA},
    START_CASES: {EJECUTIVO_CPE, JEFE_REGIONAL, ANALISTA},
    WORK_TASKS: set(ROLES),  # analysts: the lane `analista`, where tasks in no lane go (engine/models/lane_roles.py)
}


def may(user, permission: str) -> bool:
    """Whether `user` (anything with a `role`; None or anonymous: no role) holds `permission`."""
    return getattr(user, "role", None) in PERMISSIONS[permission]


def region_scope(user) -> str | None:
    """The region `user` is limited to: None for those who see every region, else their region."""
    return None if may(user, ALL_REGIONS) else user.region


def may_start(user, start_role: str | None) -> bool:
    """Whether `user` may start by hand a case of a process whose start event lies in the lane of
    `start_role`: an analyst any; other staff who may start cases, those started in the company's lane
    (on its behalf: walk-in, phone or derived companies, SPEC §1 step 1) or in no lane, and those
    started in their own role's lane (a regional head's own process, not an executive's)."""
    if not may(user, START_CASES):
        return False
    return may(user, ALL_REGIONS) or start_role in (None, PYME) or start_role == user.role


def needs_region(role: str) -> bool:
    return role in REGIONAL


def lanes_of(user) -> list[str]:
    """The lanes whose tasks are offered to `user`: their role's, and a CPE executive also the
    company's (walk-ins at the CPE's client computer, manual §10)."""
    return [user.role] + ([PYME] if user.role == EJECUTIVO_CPE else [])


def may_work(user, lane: str | None, region: str | None, assignee: str | None) -> bool:
    """Whether `user` may claim or complete a task of that lane, region and assignee.

    The company's own steps (lane `pyme`) may also be done by a CPE executive of the
    region on the company's behalf (walk-ins at the CPE's client computer, manual §10).
    """
    if user is None:
        return True
    if assignee is not None:
        return assignee == user.username
    if user.region is not None and region is not None and user.region != region:
        return False
    return lane in lanes_of(user)
