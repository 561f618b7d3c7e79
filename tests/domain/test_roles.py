"""Table-driven tests of engine.domain.roles: who may do what, in which region, on which lanes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.domain import roles


def user(role, region=None, username="u"):
    return SimpleNamespace(role=role, region=region, username=username)


ANALYST = user(roles.ANALISTA)
CPE = user(roles.EJECUTIVO_CPE, "CL-RM")
PROCHILE = user(roles.EJECUTIVO_PROCHILE, "CL-RM")
HEAD = user(roles.JEFE_REGIONAL, "CL-RM")
COMPANY = user(roles.PYME)
NOBODY = SimpleNamespace()  # an anonymous visitor: no role at all

# permission: who holds it, in the order ANALYST, CPE, PROCHILE, HEAD, COMPANY, NOBODY
MAY = [
    (roles.SIGN_IN, (True, True, True, True, False, False)),
    (roles.ALL_REGIONS, (True, False, False, False, False, False)),
    (roles.MANAGE_MODELS, (True, False, False, False, False, False)),
    (roles.REPAIR_CASES, (True, False, False, False, False, False)),
    (roles.SEE_AUDIT, (True, False, False, False, False, False)),
    (roles.SEE_INDICATORS, (True, True, True, True, False, False)),
    (roles.SEE_REGISTRY, (True, True, True, True, False, False)),
    (roles.SEE_BENEFITS, (True, False, False, True, False, False)),
    (roles.SEE_OUTBOX, (True, False, False, False, False, False)),
    (roles.SEE_EXECUTIVES, (True, False, False, True, False, False)),
    (roles.MANAGE_WORKSHOPS, (True, True, False, True, False, False)),
    (roles.START_CASES, (True, True, False, True, False, False)),
    (roles.WORK_TASKS, (True, True, True, True, True, False)),
]


@pytest.mark.parametrize("permission,expected", MAY)
def test_may(permission, expected):
    assert tuple(roles.may(u, permission) for u in (ANALYST, CPE, PROCHILE, HEAD, COMPANY, NOBODY)) == expected


def test_every_permission_is_in_the_table():
    assert {p for p, _ in MAY} == set(roles.PERMISSIONS)


def test_an_unknown_permission_is_an_error():
    with pytest.raises(KeyError):
        roles.may(ANALYST, "see_everything")


@pytest.mark.parametrize("who,expected", [
    (ANALYST, None), (user(roles.ANALISTA, "CL-BI"), None), (CPE, "CL-RM"), (HEAD, "CL-RM"),
    (user(roles.EJECUTIVO_CPE, None), None), (COMPANY, None),
])
def test_region_scope(who, expected):
    assert roles.region_scope(who) == expected


@pytest.mark.parametrize("role,expected", [
    (roles.ANALISTA, False), (roles.PYME, False), (roles.EJECUTIVO_CPE, True), (roles.EJECUTIVO_PROCHILE, True),
    (roles.JEFE_REGIONAL, True),
])
def test_needs_region(role, expected):
    assert roles.needs_region(role) is expected


@pytest.mark.parametrize("who,expected", [
    (CPE, [roles.EJECUTIVO_CPE, roles.PYME]), (PROCHILE, [roles.EJECUTIVO_PROCHILE]), (HEAD, [roles.JEFE_REGIONAL]),
    (ANALYST, [roles.ANALISTA]), (COMPANY, [roles.PYME]),
])
def test_lanes_of(who, expected):
    assert roles.lanes_of(who) == expected


@pytest.mark.parametrize("who,lane,region,assignee,expected", [
    (None, roles.JEFE_REGIONAL, "CL-RM", None, True),  # the CLI and the engine's own steps
    (CPE, roles.EJECUTIVO_CPE, "CL-RM", None, True),
    (CPE, roles.PYME, "CL-RM", None, True),  # on the company's behalf
    (CPE, roles.PYME, "CL-BI", None, False),  # not in another region
    (CPE, roles.JEFE_REGIONAL, "CL-RM", None, False),
    (PROCHILE, roles.PYME, "CL-RM", None, False),
    (HEAD, roles.JEFE_REGIONAL, None, None, True),  # a task without region
    (user(roles.EJECUTIVO_CPE, None), roles.EJECUTIVO_CPE, "CL-BI", None, True),  # a user without region
    (CPE, roles.JEFE_REGIONAL, "CL-BI", "u", True),  # assigned to them: lane and region do not matter
    (CPE, roles.EJECUTIVO_CPE, "CL-RM", "other", False),  # assigned to someone else
])
def test_may_work(who, lane, region, assignee, expected):
    assert roles.may_work(who, lane, region, assignee) is expected


def test_roles_are_the_lanes_and_labels_name_them_all():
    assert roles.ROLES == ("pyme", "ejecutivo_cpe", "ejecutivo_prochile", "jefe_regional", "analista")
    assert set(roles.LABELS) == set(roles.ROLES)
    assert set(roles.REGIONAL) | {roles.ANALISTA, roles.PYME} == set(roles.ROLES)


# the lane of a process's start event: who may start a case of it by hand, in the order
# ANALYST, CPE, PROCHILE, HEAD, COMPANY, NOBODY
MAY_START = [
    (roles.PYME, (True, True, False, True, False, False)),  # on the company's behalf: any staff who starts cases
    (None, (True, True, False, True, False, False)),  # a start event in no lane
    (roles.JEFE_REGIONAL, (True, False, False, True, False, False)),  # the head's own process
    (roles.EJECUTIVO_CPE, (True, True, False, False, False, False)),
    (roles.ANALISTA, (True, False, False, False, False, False)),
    (roles.EJECUTIVO_PROCHILE, (True, False, False, False, False, False)),  # ProChile starts no case by hand
]


@pytest.mark.parametrize("start_role, expected", MAY_START)
def test_may_start(start_role, expected):
    people = (ANALYST, CPE, PROCHILE, HEAD, COMPANY, NOBODY)
    assert tuple(roles.may_start(p, start_role) for p in people) == expected
