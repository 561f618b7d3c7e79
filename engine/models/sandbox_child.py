"""The sandbox child process (`python -m engine.models.sandbox_child`), started and killed by
engine/models/sandbox.py: it runs the model's untrusted code, one request at a time, and nothing else.

Protocol: on stdin, requests; on stdout, replies; each a 4-byte big-endian length and a UTF-8
JSON object. A request is {"op": "eval" | "exec", "code", "data", "extra", "now", "seconds",
"iterations"}; a reply is {"ok": value} (for "exec": the values the script leaves under the
names it uses) or {"error": "Spanish message"}, with "last": true when the child exits after it.

Before reading its first request the child limits itself with setrlimit: address space
(CHILD_MEMORY_BYTES), no file writes, a few descriptors, no core dumps, and CPU time (re-armed
per request: what it used so far + CHILD_CPU_SECONDS, a backstop should the parent be gone);
it ignores SIGINT and SIGTERM (a Ctrl-C or a stop meant for `cpe worker` is the parent's business:
it finishes its step, then exits, which closes the child's stdin). Every
BaseException the code raises becomes an error reply; after a MemoryError or RecursionError
the child answers and exits, so the next request gets a fresh one. EOF on stdin: it exits.
"""

from __future__ import annotations

import json
import math
import resource
import signal
import struct
import sys
from datetime import datetime

from engine.basics import case_values, clock
from engine.basics.errors import ValueRefused
from engine.models import sandbox

_HEADER = struct.Struct(">I")


def _limit(kind, soft, hard=None):
    try:
        resource.setrlimit(kind, (soft, soft if hard is None else hard))
    except (ValueError, OSError):  # pragma: no cover - a platform without that limit
        pass


def set_limits() -> None:
    _limit(resource.RLIMIT_AS, sandbox.CHILD_MEMORY_BYTES)
    _limit(resource.RLIMIT_FSIZE, 0)
    _limit(resource.RLIMIT_NOFILE, 16)
    _limit(resource.RLIMIT_CORE, 0)


def arm_cpu() -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + sandbox.CHILD_CPU_SECONDS
    _limit(resource.RLIMIT_CPU, soft, resource.getrlimit(resource.RLIMIT_CPU)[1])


def _read(stream, size: int) -> bytes | None:
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def _check(value, what: str) -> None:
    try:
        case_values.check(value)
    except ValueRefused as exc:
        where = f" («{exc.path}»)" if exc.path else ""
        raise sandbox.SandboxError(f"{what}{where}: {exc.reason}") from None


def run(request: dict):
    sandbox.MAX_SECONDS = float(request["seconds"])
    sandbox.MAX_ITERATIONS = int(request["iterations"])
    moment = datetime.fromisoformat(request["now"])
    data, extra = request["data"], request["extra"]
    with clock.using(clock.VirtualClock(moment)):
        if request["op"] == "eval":
            value = sandbox.plain_times(sandbox.run_expression(request["code"], data, extra))
            _check(value, "la expresión dio un valor que no es JSON")
            return value
        left = sandbox.plain_times(sandbox.run_script(request["code"], data, extra))
        try:
            case_values.check_fields(left)
        except ValueRefused as exc:
            raise sandbox.SandboxError(f"el script dejó en «{exc.path}» un valor que no es JSON: "
                                       f"{exc.reason}") from None
        return left


def answer(body: bytes) -> tuple[bytes, bool]:
    """The encoded reply to one request, and whether this child should exit after it."""
    recycle = False
    try:
        arm_cpu()
        reply = {"ok": run(json.loads(body))}
        encoded = json.dumps(reply, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt, MemoryError …: all the model's
        recycle = isinstance(exc, (MemoryError, RecursionError))
        encoded = _error(sandbox.describe(exc), recycle)
        exc = None  # drop the traceback (and what its frames hold) now
    if len(encoded) > sandbox.MAX_REPLY_BYTES:
        encoded = _error("el resultado del código es demasiado grande")
    return encoded, recycle


def _error(message: str, last: bool = False) -> bytes:
    reply = {"error": message, "last": True} if last else {"error": message}
    return json.dumps(reply, ensure_ascii=False).encode("utf-8", "replace")


def main() -> None:
    # Ctrl-C or a SIGTERM to the whole process group (systemd, a terminal) is for the parent, which
    # finishes its step first; the child ends when its stdin closes, or by the parent's SIGKILL.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but replies on the pipe
    set_limits()
    while True:
        header = _read(stdin, _HEADER.size)
        if header is None:
            return
        body = _read(stdin, _HEADER.unpack(header)[0])
        if body is None:
            return
        encoded, recycle = answer(body)
        stdout.write(_HEADER.pack(len(encoded)) + encoded)
        stdout.flush()
        if recycle:
            return


if __name__ == "__main__":
    main()
