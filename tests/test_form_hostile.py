"""Hostile forms (issue "Hostile input", classes 5 and 6): references that leave the form,
cycles, excessive nesting, huge schemas and regular expressions that backtrack.

Every hostile form of the catalogue is refused at deploy (`Engine.validate` and
`Engine.deploy`) with a Spanish message that names the field, and nothing is stored or
fetched. Patterns run on RE2 (linear time); what RE2 cannot compile is refused at deploy.
A property test builds random nested schemas (not/allOf/anyOf/items/properties and local
`$ref`, cycles included): each one deploys or is refused with a message, never an exception.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing.exceptions import Unresolvable

from engine.basics.errors import DeployError, FormError
from engine.models.forms import REGISTRY, Form, FormValidator, load_form
from engine.models.validation import check_files

ROOT = Path(__file__).resolve().parent.parent


def _form(**properties) -> dict:
    return {"type": "object", "properties": properties}


def _nest(keyword: str, depth: int) -> dict:
    node: dict | bool = {"type": "string"}
    for _ in range(depth):
        node = {keyword: [node]} if keyword in ("allOf", "anyOf") else {keyword: node}
    return node


def _chain(length: int) -> dict:
    """$defs d0 → d1 → … → d(length): no cycle, but deep once the references are followed."""
    defs = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(length)}
    defs[f"d{length}"] = {"type": "string"}
    return dict(_form(a={"$ref": "#/$defs/d0"}), **{"$defs": defs})


def _laughs(levels: int) -> dict:
    """Each definition uses the next one twice: 2**levels schemas once the references are followed."""
    defs = {f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
            for i in range(levels)}
    defs[f"d{levels}"] = {"type": "string"}
    return dict(_form(a={"$ref": "#/$defs/d0"}), **{"$defs": defs})


class _Recorder(BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).hits.append(self.path)
        body = json.dumps({"type": "string", "maxLength": 1}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def loopback():
    """A server on 127.0.0.1 that records every request made to it."""
    _Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    server.shutdown()
    server.server_close()


# (id, form (dict, or a function of the loopback URL), fragments the message must contain)
CATALOGUE = [
    ("http_ref", lambda url: _form(a={"$ref": f"{url}/s.json"}), ["«a»", "solo dentro del formulario"]),
    ("file_ref", _form(a={"$ref": "file:///etc/passwd"}), ["«a»", "solo dentro del formulario"]),
    ("relative_ref", _form(a={"$ref": "otro.json#/x"}), ["«a»", "solo dentro del formulario"]),
    ("missing_pointer", _form(a={"$ref": "#/$defs/nada"}), ["«a»", "no apunta a ningún esquema"]),
    ("pointer_to_a_value", dict(_form(a={"$ref": "#/title"}), title="t"), ["«a»", "no apunta a ningún esquema"]),
    ("direct_cycle", dict(_form(a={"$ref": "#/$defs/x"}), **{"$defs": {"x": {"$ref": "#/$defs/x"}}}),
     ["«a»", "referencia circular", "#/$defs/x"]),
    ("indirect_cycle", dict(_form(a={"$ref": "#/$defs/x"}), **{"$defs": {
        "x": {"allOf": [{"$ref": "#/$defs/y"}]}, "y": {"not": {"$ref": "#/$defs/x"}}}}),
     ["«a»", "referencia circular"]),
    ("cycle_through_the_root", _form(a={"type": "object", "properties": {"b": {"$ref": "#"}}}),
     ["«a.b»", "referencia circular"]),
    ("not_300", _form(a=_nest("not", 300)), ["«a»", "anidamiento de más de 32 niveles"]),
    ("allOf_300", _form(a=_nest("allOf", 300)), ["«a»", "anidamiento de más de 32 niveles"]),
    ("items_300", _form(a=dict(_nest("items", 300), type="array")), ["«a»", "anidamiento de más de 32 niveles"]),
    ("deep_through_references", _chain(40), ["«a»", "anidamiento de más de 32 niveles"]),
    ("references_that_multiply", _laughs(14), ["«a»", "demasiado grande"]),
    ("huge_schema", dict(_form(a={"type": "string"}), **{"$defs": {f"d{i}": {"type": "string"} for i in range(6000)}}),
     ["demasiado grande"]),
    ("json_nested_100000", "[" * 100_000 + "]" * 100_000, ["anida demasiados niveles"]),
    ("json_nested_in_a_form", '{"type": "object", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
     ["anida demasiados niveles"]),
    ("backreference", _form(a={"type": "string", "pattern": "^(a)\\1$"}),
     ["«a»", "la expresión regular usa retroreferencias o lookaround, que no se permiten"]),
    ("lookahead", _form(a={"type": "string", "pattern": "^(?=a)a$"}),
     ["«a»", "la expresión regular usa retroreferencias o lookaround, que no se permiten"]),
    ("lookbehind_in_patternProperties", _form(a={"type": "object", "patternProperties": {"(?<=x)y": {}}}),
     ["«a»", "la expresión regular usa retroreferencias o lookaround, que no se permiten"]),
    ("patternProperties_with_unevaluatedProperties",
     _form(a={"type": "object", "patternProperties": {"^x": {}}, "unevaluatedProperties": False}),
     ["no se pueden usar en el mismo formulario"]),
    ("id_changes_the_base", _form(a={"$id": "http://127.0.0.1:9/", "properties": {"b": {"$ref": "#/x"}}}),
     ["«a»", "$id"]),
]


def _text(form, url) -> str:
    form = form(url) if callable(form) else form
    return form if isinstance(form, str) else json.dumps(form)


@pytest.mark.parametrize("label, form, fragments", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_hostile_forms_are_refused_at_deploy_naming_the_field(engine, loopback, label, form, fragments):
    url, hits = loopback
    files = [("hostil.json", _text(form, url).encode())]
    problems = [str(p) for p in engine.validate(files)]
    assert problems and all(f in problems[0] for f in fragments), problems
    assert "hostil" in problems[0] and "Error" not in problems[0] and "recursion" not in problems[0]
    with pytest.raises(DeployError) as info:
        engine.deploy(files, author="ana", message="hostil")
    assert [str(p) for p in info.value.problems] == problems
    assert engine.models() == []
    assert hits == []


def test_a_remote_reference_is_never_fetched_even_by_a_form_built_directly(loopback):
    url, hits = loopback
    schema = _form(a={"$ref": f"{url}/s.json"})
    with pytest.raises(ValueError, match="solo dentro del formulario"):
        Form("hostil", 1, schema)
    with pytest.raises(ValueError):
        load_form(json.dumps(schema))
    with pytest.raises(Unresolvable):  # the validator itself retrieves nothing either
        FormValidator(schema, registry=REGISTRY).is_valid({"a": "x"})
    assert hits == []


def test_local_references_still_work():
    schema = dict(_form(a={"$ref": "#/$defs/corto"}, b={"type": "array", "items": {"$ref": "#/$defs/corto"}}),
                  **{"$defs": {"corto": {"type": "string", "maxLength": 3}}})
    form = Form("local", 1, load_form(json.dumps(schema)))
    assert form.validate({"a": "abc", "b": ["x"]}) == {"a": "abc", "b": ["x"]}
    with pytest.raises(FormError) as info:
        form.validate({"a": "abcd", "b": ["xyzw"]})
    assert set(info.value.errors) == {"a", "b.0"}


def test_shipped_forms_still_deploy_and_their_patterns_behave_as_before():
    files = [(p.name, p.read_bytes()) for p in sorted((ROOT / "forms").glob("*.json"))]
    artifacts, problems = check_files(files)
    assert problems == [] and len(artifacts) == len(files)
    agenda = Form("agendar_entrevista", 1, load_form((ROOT / "forms" / "agendar_entrevista.json").read_text()))
    hour = next(name for name, p in agenda.schema["properties"].items() if "pattern" in p)
    base = {k: v for k, v in _sample(agenda.schema).items() if k != hour}
    assert agenda.validate(dict(base, **{hour: "09:30"}))[hour] == "09:30"
    for bad in ("24:00", "9:30", "09:60", "x09:30"):
        with pytest.raises(FormError) as info:
            agenda.validate(dict(base, **{hour: bad}))
        assert info.value.errors[hour].endswith("El formato no es válido.")


def _sample(schema: dict) -> dict:
    """A valid value for each required field of a flat form (what agendar_entrevista needs)."""
    from datetime import date

    values = {}
    for name in schema.get("required", []):
        prop = schema["properties"][name]
        if "oneOf" in prop:
            values[name] = prop["oneOf"][0]["const"]
        elif "enum" in prop:
            values[name] = prop["enum"][0]
        elif prop.get("format") == "date":
            values[name] = date.today().isoformat()
        elif prop.get("type") == "string":
            values[name] = "x" * max(prop.get("minLength", 1), 1)
        elif prop.get("type") in ("integer", "number"):
            values[name] = prop.get("minimum", 1)
        elif prop.get("type") == "boolean":
            values[name] = True
    return values


def test_backtracking_patterns_run_in_linear_time():
    """^(a+)+$ is fine for RE2: it deploys, and "a"*30 + "!" (32 s with Python's re) and
    "a"*100000 + "!" are refused at once. Run in a subprocess so a regression cannot hang the suite."""
    script = r"""
import json, time
from engine.models.validation import check_files
from engine.models.forms import REGISTRY, Form, FormError, FormValidator, load_form
schema = {"type": "object", "properties": {
    "a": {"type": "string", "pattern": "^(a+)+$"},
    "m": {"type": "object", "patternProperties": {"^(a+)+$": {"type": "string"}}, "additionalProperties": False}}}
text = json.dumps(schema)
assert check_files([("redos.json", text.encode())])[1] == []
form = Form("redos", 1, load_form(text))
began = time.monotonic()
results = []
for value in ("a" * 30 + "!", "a" * 100000 + "!"):
    try:
        form.validate({"a": value, "m": {value: "x"}})
        results.append("accepted")
    except FormError as exc:
        results.append(sorted(exc.errors.items()))
results.append(form.validate({"a": "aaaa", "m": {"aa": "x"}}))
print(json.dumps({"seconds": time.monotonic() - began, "results": results}))
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["seconds"] < 2, out["seconds"]
    refused = [["a", "a: El formato no es válido."], ["m", "m: Contiene campos no permitidos."]]
    assert out["results"] == [refused, refused, {"a": "aaaa", "m": {"aa": "x"}}]


def test_the_nesting_check_of_the_json_text_is_linear():
    """The bracket count runs before json.loads on any upload; with Python's re its string
    pattern was quadratic on escaped quotes (32 000 pairs: 15 s; a 512 KB upload: minutes)."""
    script = r"""
import json, time
from engine.models.forms import MAX_FORM_BYTES, json_depth_problem, load_form
text = '"' + '\\"' * (MAX_FORM_BYTES // 2 - 1)
began = time.monotonic()
assert json_depth_problem(text) is None
try:
    load_form(text)
except ValueError:
    pass
print(json.dumps({"seconds": time.monotonic() - began}))
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["seconds"] < 2


# -- property: random nested schemas deploy or are refused with a message ---------------------
_REFS = ["#", "#/$defs/d0", "#/$defs/d1", "#/properties/a", "#/$defs/nada", "#/$defs/d0/not"]
_LEAVES = st.one_of(
    st.sampled_from([{"type": "string"}, {"type": "integer", "minimum": 0}, True, False, {},
                     {"type": "string", "pattern": "^(a+)+$"}, {"type": "string", "pattern": "(a)\\1"}]),
    st.sampled_from(_REFS).map(lambda ref: {"$ref": ref}),
)


def _grow(children):
    return st.one_of(
        children.map(lambda c: {"not": c}),
        st.lists(children, min_size=1, max_size=3).map(lambda cs: {"allOf": cs}),
        st.lists(children, min_size=1, max_size=3).map(lambda cs: {"anyOf": cs}),
        children.map(lambda c: {"type": "array", "items": c}),
        st.dictionaries(st.sampled_from(["a", "b", "c"]), children, min_size=1, max_size=3)
        .map(lambda ps: {"type": "object", "properties": ps}),
    )


def _deepen(schema, depth):
    for _ in range(depth):
        schema = {"not": schema}
    return schema


SCHEMAS = st.recursive(_LEAVES, _grow, max_leaves=25)
FORMS = st.builds(
    lambda a, d0, d1, depth: {"type": "object", "properties": {"a": _deepen(a, depth)},
                              "$defs": {"d0": d0, "d1": d1}},
    SCHEMAS, SCHEMAS, SCHEMAS, st.sampled_from([0, 0, 0, 5, 31, 40, 300]))
DATA = [{}, {"a": "a"}, {"a": 1}, {"a": ["aa", {"a": "b"}]}, {"a": {"a": "a" * 40 + "!", "b": [1]}}]


@settings(derandomize=True, max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(FORMS)
def test_random_nested_schemas_deploy_or_are_refused_with_a_message(schema):
    text = json.dumps(schema)
    artifacts, problems = check_files([("azar.json", text.encode())])
    if problems:
        assert artifacts == [] and all(p.message and "Error" not in p.message for p in problems)
        with pytest.raises(ValueError):
            Form("azar", 1, schema)
        return
    form = Form("azar", 1, load_form(text))
    for data in DATA:
        try:
            form.validate(data)
        except FormError as exc:
            assert exc.errors and all(isinstance(v, str) and v for v in exc.errors.values())
