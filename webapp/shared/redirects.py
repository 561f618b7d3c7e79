"""Where a redirect may go when the target comes from the request (`next`): only a path of
this site. Anything else is refused (None) and the caller uses its own page instead."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LENGTH = 2000


def safe_next(target) -> str | None:
    """`target` if it is a same-site path, else None.

    Accepted by construction, never by cleaning: printable ASCII with no whitespace or control
    character anywhere (browsers drop tab, CR and LF inside a URL, so "/\\t/evil" would become
    "//evil"; CR/LF would also split the Location header), starting with one "/" followed by
    something that is neither "/" nor "\\" (browsers read a backslash as a slash, so "/\\evil"
    is "//evil", another host), and with no scheme or host once parsed — also after doing to it
    what a browser does (backslashes as slashes)."""
    if not isinstance(target, str) or not 1 <= len(target) <= MAX_LENGTH:
        return None
    if not all("!" <= c <= "~" for c in target):  # printable ASCII, no space
        return None
    if target[0] != "/" or target[1:2] in ("/", "\\"):
        return None
    for form in (target, target.replace("\\", "/")):
        parts = urlsplit(form)
        if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
            return None
    return target
