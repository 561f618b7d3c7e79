"""Who may see what: the same rules for every page (SPEC §9: role and region)."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from engine.domain import roles
from webapp.shared.context import current_engine


def require(permission: str):
    """A view decorator: the login page for an anonymous visitor, 403 for a user without `permission`
    (engine.domain.roles)."""
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not roles.may(current_user, permission):
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def can_work(task: dict) -> bool:
    return roles.may(current_user, roles.WORK_TASKS) and roles.may_work(current_user, task["lane"], task["region"],
                                                                        task["assignee"])


def can_see_case(case: dict, user=None) -> bool:
    """Analysts see every case; the others, their region's (a task dict works too: it carries
    its case's region); a user without a region who is not an analyst sees none. `user`
    defaults to the logged-in person."""
    user = current_user if user is None else user
    if roles.may(user, roles.ALL_REGIONS):
        return True
    return user.region is not None and case.get("region") == user.region


def task_or_404(task_id: str) -> dict:
    return current_engine().task(task_id)  # NotFound: 404 (webapp/shared/error_responses.py)


def case_or_404(case_id: int, check=True) -> dict:
    case = current_engine().case(case_id)  # NotFound: 404 (webapp/shared/error_responses.py)
    if check and not can_see_case(case):
        abort(403)
    return case
