"""Simulated people: any form filled from its JSON Schema and the company's profile."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import re2
from referencing.exceptions import Unresolvable

from engine.models.forms import REGISTRY, FormValidator, regex
from engine.simulate.cohort import _rut
from engine.simulate.config import ACTIONS, COUNTRIES, NAMES, PATTERN_CANDIDATES, PRODUCTS, TEXTS, _clamp, _pick


def answer(schema: dict, profile: dict, rng: random.Random, now: datetime, rules: dict | None = None,
           optional: float = 0.3, noise: float = 0.15) -> dict:
    """Data for a form, drawn from its JSON Schema and the company's `profile`.

    A field whose name is in `profile` takes the profile's value (if the schema allows it);
    scored options (`x-points`) follow `profile["potencial"]` with noise; other choices follow
    `rules` (by field name) or are uniform; dates come from `now`; numbers stay within bounds;
    required strings get plausible Spanish text. `if`/`then` conditions of the schema are applied.
    """
    gen = _Answerer(profile, rng, now, rules or {}, optional, noise)
    value = gen.value("", schema, required=True)
    return value if isinstance(value, dict) else {}


def _fullmatch(pattern: str, text: str) -> bool:
    """Form patterns run on RE2 (linear time), as the engine validates them."""
    try:
        return regex(pattern).fullmatch(text) is not None
    except re2.error:
        return False


def _holds(condition, data) -> bool:
    """An `if` of the form, evaluated like the engine's validator (RE2 patterns, nothing fetched)."""
    try:
        return FormValidator(condition, registry=REGISTRY).is_valid(data)
    except Unresolvable:  # a $ref inside the condition points at the rest of the form
        return False


class _Answerer:
    def __init__(self, profile, rng, now, rules, optional, noise):
        self.profile, self.rng, self.now, self.rules = profile, rng, now, rules
        self.optional, self.noise = optional, noise
        self.potential = float(profile.get("potencial", 0.5))

    def value(self, name, schema, required):
        if not isinstance(schema, dict):
            return None
        if "const" in schema:
            return schema["const"]
        if name and name in self.profile and _allowed(schema, self.profile[name]):
            return self.profile[name]
        options = schema.get("oneOf") or schema.get("anyOf")
        if options and all(isinstance(o, dict) and "const" in o for o in options):
            return self.choose(name, [o["const"] for o in options],
                               [o.get("x-points") for o in options])
        if "enum" in schema:
            return self.choose(name, list(schema["enum"]), [None] * len(schema["enum"]))
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind == "object" or "properties" in schema:
            return self.obj(schema)
        if kind == "array":
            return self.array(name, schema)
        if kind == "boolean":
            return self.choose(name, [True, False], [None, None])
        if kind in ("integer", "number"):
            return self.number(schema, kind == "integer")
        return self.text(name, schema)

    def choose(self, name, values, points):
        if any(p is not None for p in points):  # a scored question: the company's level, with noise
            order = sorted(range(len(values)), key=lambda i: (points[i] or 0, i))
            level = _clamp(self.potential + self.rng.gauss(0, self.noise))
            return values[order[round(level * (len(order) - 1))]]
        rule = self.rules.get(name)
        if rule:
            weights = {}
            for v in values:
                base, slope = rule.get(_rule_key(v), [0, 0])
                weights[_rule_key(v)] = max(0.0, base + slope * self.potential)
            chosen = _pick(self.rng, weights)
            return next(v for v in values if _rule_key(v) == chosen)
        if values == [True, False]:
            return self.rng.random() < 0.25 + 0.7 * self.potential
        return self.rng.choice(values)

    def obj(self, schema):
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        data = {}
        for key, sub in props.items():
            if isinstance(sub, dict) and sub.get("readOnly") is True:
                continue  # shown with the case's value, never sent
            if key in required:
                data[key] = self.value(key, sub, True)
            elif self._fill_optional(key, sub):
                data[key] = self.value(key, sub, False)
        for rule in [schema, *schema.get("allOf", [])]:
            if "if" in rule:
                branch = rule.get("then") if _holds(rule["if"], data) else rule.get("else")
                self._apply(branch or {}, props, data)
        return {k: v for k, v in data.items() if v is not None}

    def _fill_optional(self, key, sub):
        if key in self.profile and _allowed(sub, self.profile[key]):
            return True
        if sub.get("type") in ("object", "array") or "properties" in sub:
            return False
        if sub.get("pattern") and not any(_fullmatch(sub["pattern"], c) for c in PATTERN_CANDIDATES):
            return False
        return self.rng.random() < self.optional

    def _apply(self, branch, props, data):
        for key in branch.get("required", []):
            if key not in data:
                data[key] = self.value(key, props.get(key, {}), True)
        for key, sub in branch.get("properties", {}).items():
            if isinstance(sub, dict) and "const" in sub and key in data:
                data[key] = sub["const"]

    def array(self, name, schema):
        items = schema.get("items", {})
        low = max(schema.get("minItems", 1), 1)
        options = items.get("oneOf") or items.get("anyOf")
        if options and all("const" in o for o in options):
            pool = [o["const"] for o in options]
        elif "enum" in items:
            pool = list(items["enum"])
        else:
            pool = None
        high = min(schema.get("maxItems", low + 2), low + 2)
        count = self.rng.randint(low, max(low, high))
        if pool is not None:
            return self.rng.sample(pool, min(count, len(pool)))
        values = []
        for _ in range(count):
            value = self.value(name, items, True)
            if value not in values:
                values.append(value)
        return values

    def number(self, schema, integer):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        if "exclusiveMinimum" in schema and "minimum" not in schema:
            low = low + 1
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 1000))
        if "exclusiveMaximum" in schema and "maximum" not in schema:
            high = high - 1
        span = min(high - low, 1_000_000)
        value = low + span * (0.05 + 0.95 * self.potential * self.rng.random())
        return int(round(value)) if integer else round(value, 2)

    def text(self, name, schema):
        fmt, rng = schema.get("format"), self.rng
        if fmt == "date":
            return (self.now + timedelta(days=rng.randint(0, 14))).date().isoformat()
        if fmt == "date-time":
            return self.now.isoformat()
        if fmt == "email":
            return f"contacto{rng.randint(1, 99999)}@empresa.cl"
        if fmt == "rut":
            return _rut(rng.randint(50_000_000, 79_999_999))
        if schema.get("pattern"):
            for candidate in PATTERN_CANDIDATES:
                if _fullmatch(schema["pattern"], candidate):
                    return candidate
        lower = name.lower()
        if "pais" in lower:
            text = rng.choice(COUNTRIES)
        elif "producto" in lower:
            text = rng.choice(PRODUCTS)
        elif "accion" in lower:
            text = rng.choice(ACTIONS)
        elif "nombre" in lower:
            text = f"Rueda de negocios {rng.choice(NAMES)} {self.now.year}"
        else:
            text = rng.choice(TEXTS)
        low, high = schema.get("minLength", 0), schema.get("maxLength", 2000)
        if len(text) < low:
            text = (text + " ") * (low // max(len(text), 1) + 1)
        return text[:high].strip() if len(text[:high].strip()) >= low else text[:high]


def _rule_key(value):
    return str(value).lower() if isinstance(value, bool) else value


def _allowed(schema, value) -> bool:
    if isinstance(schema, dict) and (schema.get("oneOf") or schema.get("anyOf") or "enum" in schema):
        options = schema.get("oneOf") or schema.get("anyOf")
        allowed = [o.get("const") for o in options] if options else schema["enum"]
        return value in allowed
    kind = schema.get("type") if isinstance(schema, dict) else None
    checks = {"string": str, "boolean": bool, "object": dict, "array": list}
    if kind in ("integer", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return kind is None or isinstance(value, checks.get(kind, object))


def _triangular(rng, spec):
    low, mode, high = spec
    return rng.triangular(low, high, mode)
