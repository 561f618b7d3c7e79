"""How this copy of the application is installed, and where it keeps its own files.

A source checkout (the repository, `make run`) has its pyproject.toml beside the packages; an installed
package (the wheel, in production) has site-packages there instead. The instance folder holds what one
installation writes for itself: the SQLite file when CPE_DATABASE_URL is not set, the generated secret
key when CPE_SECRET_KEY is not set, the design comparisons of the web page (simulaciones/). The web app
and the `cpe` command take it from here, so both always agree."""

from __future__ import annotations

import os
from pathlib import Path

SOURCE_TREE = Path(__file__).resolve().parents[2]


def source_checkout() -> bool:
    """True when running from the repository; False for an installed package (whose packages' parent
    is site-packages, where the instance folder must never go)."""
    return (SOURCE_TREE / "pyproject.toml").is_file()


def instance_dir() -> Path:
    """CPE_INSTANCE_DIR if set (a relative path is taken from the current folder); else `instance/` at
    the repository's root in a source checkout, or `./instance` in the current folder for an installed
    package. Always absolute; not created here (whoever writes into it creates it)."""
    configured = (os.environ.get("CPE_INSTANCE_DIR") or "").strip()
    if configured:
        return Path(os.path.abspath(os.path.expanduser(configured)))
    return SOURCE_TREE / "instance" if source_checkout() else Path.cwd() / "instance"
