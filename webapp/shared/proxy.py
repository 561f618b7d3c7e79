"""The client's address behind a reverse proxy (issue 8: login limits and audit per client).

Without configuration (`CPE_PROXY_HOPS=0`, the default) the address is the TCP peer and any
`X-Forwarded-For` header is ignored, so a client cannot pick the address its failed logins
count against. With `CPE_PROXY_HOPS=n` the app trusts the last `n` entries of
`X-Forwarded-For` (and `X-Forwarded-Proto`), the ones appended by the n proxies in front of
it (e.g. 1 for nginx → gunicorn); anything a client adds before them is ignored.
"""

from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix

MAX_HOPS = 5


def trust_proxies(app) -> None:
    hops = parse_hops(app.config.get("PROXY_HOPS"))
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def parse_hops(value) -> int:
    """The number of trusted proxies from the setting (a number or its text; empty is 0)."""
    text = str(value if value is not None else "").strip() or "0"
    if not text.isdigit() or int(text) > MAX_HOPS:
        raise ValueError(f"CPE_PROXY_HOPS debe ser un número entero entre 0 y {MAX_HOPS} (es «{value}»).")
    return int(text)
