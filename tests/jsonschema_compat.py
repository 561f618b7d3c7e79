"""hypothesis-jsonschema 0.23.1 with hypothesis 6.170 (both pinned in pyproject.toml).

hypothesis-jsonschema draws object properties with `cu.many(...).more()` / `.reject()`,
an internal API that hypothesis replaced by a context-manager iterator. `patch()` gives
hypothesis-jsonschema's module a `many` with the old two methods, built on the public
`draw_boolean` of the test data; nothing else of either library is touched.
"""

from __future__ import annotations

import types

import hypothesis_jsonschema._from_schema as from_schema_module


class _Many:
    def __init__(self, data, min_size, max_size, average_size):
        self.data, self.min_size, self.max_size = data, min_size, max_size
        span = max(average_size - min_size, 0)
        self.p_continue = 0.0 if max_size == min_size else min(0.95, span / (span + 1.0))
        self.count = self.rejections = 0

    def more(self) -> bool:
        if self.count < self.min_size:
            self.count += 1
            return True
        if self.count >= self.max_size or self.rejections > 2 * self.count + 10:
            return False
        if self.data.draw_boolean(self.p_continue):
            self.count += 1
            return True
        return False

    def reject(self) -> None:
        self.count -= 1
        self.rejections += 1


def patch() -> None:
    if not hasattr(from_schema_module.cu.many, "more"):
        from_schema_module.cu = types.SimpleNamespace(**{**vars(from_schema_module.cu), "many": _Many})
