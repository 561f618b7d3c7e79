"""engine/basics/case_values.py: what a case may hold (plain, bounded JSON), table-driven and by property."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.basics import case_values
from engine.basics.errors import ValueRefused


def _nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


ACCEPTED = [
    None, True, 0, -5, 10**18 - 1, 1.5, "", "ñandú ☃ 😀", [], {}, (1, 2),
    {"a": {"b": [1, "x", None, {"c": 2.0}]}}, _nested(case_values.MAX_DEPTH - 1),
]

REFUSED = [
    ({"a": float("nan")}, "a", "no es finito"),
    ({"a": float("inf")}, "a", "no es finito"),
    ({"a": -float("inf")}, "a", "no es finito"),
    ({"a": "\ud800"}, "a", "sustituto aislado"),
    ({"a": ["ok", "x\udfffy"]}, "a[1]", "sustituto aislado"),
    ({"a": "x\x00"}, "a", "carácter nulo"),
    ({"\ud800": 1}, "", "sustituto aislado"),
    ({1: "a", "1": "b"}, "", "no es un texto"),
    ({"a": {"typename": "TaskSpec"}}, "a", "reservada"),
    ({"a": complex(1, 2)}, "a", "complex"),
    ({"a": {1, 2}}, "a", "set"),
    ({"a": range(3)}, "a", "range"),
    ({"a": b"bytes"}, "a", "bytes"),
    ({"a": 10**18}, "a", "cifras"),
    ({"a": -(10**40)}, "a", "cifras"),
    ({"a": _nested(100_000)}, "a", "niveles"),
    ({"a": list(range(case_values.MAX_NODES + 1))}, "a", "elementos"),
    ({"a": "x" * (case_values.MAX_TEXT + 1)}, "", "caracteres"),
    ({"k" * (case_values.MAX_KEY + 1): 1}, "", "caracteres"),
    ({"a": object()}, "a", "object"),
]


@pytest.mark.parametrize("value", ACCEPTED)
def test_plain_bounded_json_is_accepted(value):
    case_values.check(value)


@pytest.mark.parametrize("value,path,reason", REFUSED)
def test_anything_else_is_refused_naming_where(value, path, reason):
    with pytest.raises(ValueRefused) as caught:
        case_values.check(value)
    assert caught.value.path.startswith(path)
    assert reason in str(caught.value)
    str(caught.value).encode("utf-8")  # the message itself is always valid text


def test_a_non_object_is_not_a_set_of_fields():
    with pytest.raises(ValueRefused):
        case_values.check_fields([1, 2])


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.binary(),
                     st.complex_numbers(), st.just("typename"))
_keys = st.one_of(st.text(max_size=8), st.integers(), st.just("typename"))
_hostile = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4), st.frozensets(st.integers(), max_size=2)),
    max_leaves=20)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(_hostile)
def test_whatever_is_accepted_is_strict_json_and_survives_the_serializer(value):
    from engine.models.spiff import SERIALIZER
    try:
        case_values.check({"x": value})
    except ValueRefused as exc:
        str(exc).encode("utf-8")
        return
    text = json.dumps({"x": value}, allow_nan=False, ensure_ascii=False)
    text.encode("utf-8")
    restored = SERIALIZER.registry.restore(json.loads(text))
    assert json.dumps(restored, allow_nan=False) == json.dumps(json.loads(text), allow_nan=False)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(_hostile)
def test_displayable_always_gives_strict_json(value):
    shown = case_values.displayable({"x": value})
    json.dumps(shown, allow_nan=False, ensure_ascii=False).encode("utf-8")


def test_displayable_repairs_what_older_versions_stored():
    shown = case_values.displayable({"a": "x\ud800", "b": math.nan, "c": _nested(1000)})
    assert shown["a"] == "x\ufffd" and shown["b"] is None
    json.dumps(shown, allow_nan=False)
