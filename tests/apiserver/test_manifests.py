"""Manifest loading: positions, document streams, syntax errors, hostile input, YAML 1.1 values.

Expected positions are computed from the test text itself (``at``), never from the loader, so a
position test fails if the loader points anywhere else.
"""

import json

import pytest
import yaml

from apiserver import manifests
from apiserver.manifests import Document, ManifestError, load_documents

LOADERS = [
    pytest.param(
        getattr(yaml, "CSafeLoader", None),
        id="libyaml",
        marks=pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml"),
    ),
    pytest.param(yaml.SafeLoader, id="pure-python"),
]


@pytest.fixture(params=LOADERS)
def loader(request, monkeypatch):
    """Run the test once with each parser the module may pick."""
    monkeypatch.setattr(manifests, "_Loader", request.param)
    return request.param


def at(text, line, token):
    """(line, column), 1-based, of the first `token` on `line` of `text`."""
    column = text.splitlines()[line - 1].index(token)
    return line, column + 1


def load_one(text):
    docs = load_documents(text)
    assert len(docs) == 1
    return docs[0]


def refusal(source, **limits):
    with pytest.raises(ManifestError) as info:
        load_documents(source, **limits)
    return info.value


# -- positions ------------------------------------------------------------------------------------

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: pi
  labels: {app.kubernetes.io/name: pi, tier: backend}
  annotations:
    foo: bar
spec:
  backoffLimit: 4
  template:
    spec:
      containers:
      - name: pi
        image: perl:5.34
        command: ["perl", "-Mbignum=bpi", "-wle"]
      -   name: sidecar
          image: busybox
      restartPolicy: Never
"""

POSITION_CASES = [
    ("block field", "spec.backoffLimit", at(JOB, 9, "backoffLimit")),
    ("list path", ["spec", "template", "spec", "containers", 0, "image"], at(JOB, 14, "image")),
    ("field string", "spec.template.spec.containers[0].image", at(JOB, 14, "image")),
    ("second list item field", "spec.template.spec.containers[1].image", at(JOB, 17, "image")),
    ("list item is located at its first key", "spec.template.spec.containers[1]", at(JOB, 16, "name")),
    ("flow sequence item", "spec.template.spec.containers[0].command[1]", at(JOB, 15, '"-Mbignum')),
    ("flow mapping member", "metadata.labels.tier", at(JOB, 5, "tier")),
    ("bracketed key with dots", "metadata.labels[app.kubernetes.io/name]", at(JOB, 5, "app.")),
    ("dotted key as plain segments", "metadata.labels.app.kubernetes.io/name", at(JOB, 5, "app.")),
    ("dotted key in a list path", ["metadata", "labels", "app.kubernetes.io/name"], at(JOB, 5, "app.")),
    ("annotation", "metadata.annotations.foo", at(JOB, 7, "foo")),
    ("root", "", (1, 1)),
    ("missing required field falls back to its mapping", "spec.selector", at(JOB, 8, "spec")),
    ("missing field of a list item", "spec.template.spec.containers[0].resources.limits", at(JOB, 13, "name")),
    ("index past the end falls back to the list", "spec.template.spec.containers[7].image", at(JOB, 12, "containers")),
    ("path through a scalar stops at it", "metadata.name.first", at(JOB, 4, "name")),
    ("missing top-level field is the document", "status.active", (1, 1)),
]


@pytest.mark.parametrize("path, expected", [c[1:] for c in POSITION_CASES], ids=[c[0] for c in POSITION_CASES])
def test_position(path, expected):
    assert load_one(JOB).position(path) == expected


def test_position_of_a_document_that_does_not_start_the_stream():
    text = "kind: A\n---\n\n# the second one\nkind: B\nspec:\n  replicas: 2\n"
    second = load_documents(text)[1]
    assert (second.line, second.column) == (5, 1)
    assert second.position("spec.replicas") == at(text, 7, "replicas")
    assert second.position("spec.missing") == at(text, 6, "spec")


ALIASES = """\
defaults: &defaults
  image: busybox
  env: &env
  - name: A
    value: "1"
containers:
- <<: *defaults
  name: web
- name: job
  env: *env
"""


def test_aliases_and_merge_keys_point_at_the_anchored_definition():
    doc = load_one(ALIASES)
    env = [{"name": "A", "value": "1"}]
    assert doc.obj["containers"] == [
        {"image": "busybox", "env": env, "name": "web"},
        {"name": "job", "env": env},
    ]
    assert doc.position("containers[0].image") == at(ALIASES, 2, "image")
    assert doc.position("containers[0].name") == at(ALIASES, 8, "name")
    assert doc.position("containers[1].env") == at(ALIASES, 10, "env")
    assert doc.position("containers[1].env[0].name") == at(ALIASES, 4, "name")


def test_aliased_values_are_independent_copies():
    containers = load_one(ALIASES).obj["containers"]
    containers[1]["env"][0]["value"] = "changed"
    assert containers[0]["env"][0]["value"] == "1"


# -- streams --------------------------------------------------------------------------------------

STREAM_CASES = [
    (
        "three documents",
        "kind: A\n---\nkind: B\n---\nkind: C\n",
        [({"kind": "A"}, 1), ({"kind": "B"}, 3), ({"kind": "C"}, 5)],
    ),
    ("blank documents are skipped", "---\nkind: A\n---\n---\n\n---\n- c\n...\n", [({"kind": "A"}, 2), (["c"], 7)]),
    ("comment-only stream", "# nothing to apply\n\n# really\n", []),
    ("empty input", "", []),
    ("explicit null is a document", "--- null\n", [(None, 1)]),
    ("quoted empty string is a document", '--- ""\n', [("", 1)]),
    (
        "a List is returned as it is",
        "kind: List\nitems:\n- kind: A\n",
        [({"kind": "List", "items": [{"kind": "A"}]}, 1)],
    ),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in STREAM_CASES], ids=[c[0] for c in STREAM_CASES])
def test_stream(text, expected):
    docs = load_documents(text)
    assert [(d.obj, d.line) for d in docs] == expected
    assert [d.index for d in docs] == list(range(len(expected)))


# Indented with tabs, as editors and `jq` often write it.
JSON_POD = (
    '{\n\t"apiVersion": "v1",\n\t"kind": "Pod",\n\t"spec": {\n'
    '\t\t"containers": [{"name": "c", "image": "x"}],\n\t\t"priority": 1.0\n\t}\n}\n'
)


def test_json_document(loader):
    doc = load_one(JSON_POD)
    assert doc.obj == {
        "apiVersion": "v1",
        "kind": "Pod",
        "spec": {"containers": [{"name": "c", "image": "x"}], "priority": 1},
    }
    assert doc.position("spec.containers[0].image") == at(JSON_POD, 5, '"image"')
    assert doc.position("spec.priority") == at(JSON_POD, 6, '"priority"')


def test_bytes_with_byte_order_mark():
    doc = load_one(b"\xef\xbb\xbfkind: Pod\nspec: {}\n")
    assert doc.obj == {"kind": "Pod", "spec": {}}
    assert doc.position("spec") == (2, 1)


def test_utf16_with_byte_order_mark():
    assert load_one("kind: Pod\nname: café\n".encode("utf-16")).obj == {"kind": "Pod", "name": "café"}


def test_non_mapping_documents_are_the_callers_to_report():
    assert [d.obj for d in load_documents("just a string\n---\n- 1\n- 2\n")] == ["just a string", [1, 2]]


# -- syntax errors --------------------------------------------------------------------------------

SYNTAX_CASES = [
    (
        "tab indentation",
        "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n",
        (4, 1),
        ["cannot start any token", "tabs"],
    ),
    (
        "unclosed quote",
        'metadata:\n  name: "pi\nspec: {}\n',
        (4, 1),
        ["found unexpected end of stream", "while scanning a quoted scalar at line 2, column 9"],
    ),
    (
        "mapping value inside a plain value",
        "kind: Pod\nmetadata: name: x\n",
        (2, 15),
        ["mapping values are not allowed"],
    ),
    ("unclosed flow sequence", "args: [a, b\n", (2, 1), ["expected ',' or ']'", "flow sequence at line 1, column 7"]),
]


@pytest.mark.parametrize("text, where, words", [c[1:] for c in SYNTAX_CASES], ids=[c[0] for c in SYNTAX_CASES])
def test_syntax_error(loader, text, where, words):
    error = refusal(text)
    assert (error.line, error.column) == where
    for word in words:
        assert word in error.message
    assert (error.status, error.reason) == (400, "BadRequest")
    assert (error.document_index, error.documents_before) == (0, [])


def test_syntax_error_in_a_later_document_keeps_the_earlier_ones(loader):
    text = "kind: A\n---\n# nothing\n---\nkind: B\n---\nkind: C\n  name: x\n"
    error = refusal(text)
    assert (error.line, error.column) == at(text, 8, ":")
    assert "mapping values are not allowed" in error.message
    assert error.document_index == 2
    assert [(d.index, d.obj, d.line) for d in error.documents_before] == [(0, {"kind": "A"}, 1), (1, {"kind": "B"}, 5)]


def test_error_string_leads_with_the_position():
    assert str(refusal("a: b: c\n")).startswith("line 1, column 5: mapping values are not allowed")


# -- hostile input --------------------------------------------------------------------------------


def billion_laughs(levels=9):
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"lol{level}: &lol{level} [" + ", ".join([f"*lol{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


HOSTILE_CASES = [
    ("billion laughs", billion_laughs(), 400, "through aliases (YAML anchors); refusing to load it", None),
    ("deep flow nesting", "[" * 10_000 + "]" * 10_000, 400, "deeper than 64 levels", (1, 65)),
    ("deep block nesting", "- " * 10_000 + "x\n", 400, "deeper than 64 levels", (1, 129)),
    ("unclosed deep nesting", "[" * 1_000_000, 400, "deeper than 64 levels", (1, 65)),
    (
        "nesting deepened through an alias",
        "a: &a " + "[" * 60 + "]" * 60 + "\nb: " + "[" * 10 + "*a" + "]" * 10 + "\n",
        400,
        "deeper than 64 levels through aliases",
        (2, 14),
    ),
    ("recursive alias in a sequence", "a: &a [1, *a]\n", 400, "anchor 'a' value contains itself", (1, 11)),
    ("recursive alias in a mapping", "a: &a\n  b: *a\n", 400, "anchor 'a' value contains itself", (2, 6)),
    ("undefined alias", "a: *nope\n", 400, "unknown anchor 'nope' referenced", (1, 4)),
    (
        "python object tag",
        '!!python/object/apply:os.system ["echo pwned"]\n',
        400,
        "YAML tag !!python/object/apply:os.system on a sequence is not allowed",
        (1, 1),
    ),
    ("python name tag", "x: !!python/name:os.system ''\n", 400, "YAML tag !!python/name:os.system", (1, 4)),
    ("local tag", "x: !Ref foo\n", 400, "YAML tag !Ref on a scalar is not allowed", (1, 4)),
    ("ordered map tag", "x: !!omap [a: 1]\n", 400, "YAML tag !!omap", (1, 4)),
    ("2 MB body", b"a" * (2 * 1024 * 1024), 413, "Request entity too large: limit is 1048576 bytes", None),
    ("2 MB text", "# " + "é" * 1_000_000, 413, "Request entity too large", None),
    ("invalid UTF-8", b"kind: Pod\nmetadata:\n  name: caf\xe9\n", 400, "not valid UTF-8 (byte 0xe9", (3, 12)),
    ("control character", "kind: Pod\x00\n", 400, "unacceptable character #x0000", (1, 10)),
    ("duplicate key", "metadata:\n  name: a\n  name: b\n", 400, 'mapping key "name" already defined at line 2', (3, 3)),
    ("duplicate after key conversion", "1: a\n'1': b\n", 400, 'mapping key "1" already defined at line 1', (2, 1)),
    ("too many nodes", "[" + "1," * 200_001 + "]", 400, "input has more than 200000 nodes", None),
]


@pytest.mark.parametrize(
    "source, status, words, where", [c[1:] for c in HOSTILE_CASES], ids=[c[0] for c in HOSTILE_CASES]
)
def test_hostile_input_is_refused(source, status, words, where):
    error = refusal(source)
    assert error.status == status
    assert error.reason == ("RequestEntityTooLarge" if status == 413 else "BadRequest")
    assert words in error.message
    if where is not None:
        assert (error.line, error.column) == where
    if status == 413:
        assert (error.line, error.column, error.document_index) == (None, None, None)


def test_billion_laughs_is_refused_by_the_node_limit():
    # With the alias budget out of the way, the overall node count still stops the expansion.
    error = refusal(billion_laughs(), max_alias_expansion=10**12)
    assert error.message == (
        "document expands to more than 200000 nodes through aliases (YAML anchors); refusing to load it"
    )


def test_alias_budget_spans_the_whole_stream():
    # Each document is harmless alone; together they expand past the limit.
    doc = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    assert len(load_documents(doc, max_alias_expansion=100)) == 1
    error = refusal("---\n".join([doc] * 2), max_alias_expansion=100)
    assert "through aliases" in error.message
    assert len(error.documents_before) == 1


def test_limits_are_parameters():
    assert refusal("kind: Pod\n", max_bytes=5).status == 413
    assert "deeper than 2 levels" in refusal("a: {b: {c: 1}}\n", max_depth=2).message
    assert load_documents("a: {b: 1}\n", max_depth=2)[0].obj == {"a": {"b": 1}}


# -- YAML 1.1 values, as Kubernetes reads them ------------------------------------------------------

SCALAR_CASES = [
    ("yes", "yes", True),
    ("no", "No", False),
    ("on", "on", True),
    ("off", "OFF", False),
    ("y", "y", True),
    ("n", "n", False),
    ("true", "True", True),
    ("tilde", "~", None),
    ("empty", "", None),
    ("Null", "Null", None),
    ("octal", "0755", 493),
    ("go octal", "0o17", 15),
    ("hex", "0x1F", 31),
    ("negative hex", "-0x10", -16),
    ("binary", "0b101", 5),
    ("underscores", "1_000", 1000),
    ("not octal", "08", 8),
    ("exponent without dot", "1e3", 1000),
    ("integral float", "3.0", 3),
    ("float", "1.5", 1.5),
    ("leading dot", ".5", 0.5),
    ("version number is a float", "1.10", 1.1),
    ("beyond int64", "99999999999999999999", 10**20),
    ("out of float range", "1e400", "1e400"),
    ("date", "2024-01-01", "2024-01-01"),
    ("timestamp", "2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"),
    ("sexagesimal", "1:20", "1:20"),
    ("quoted octal", "'0755'", "0755"),
    ("quoted bool", '"yes"', "yes"),
    ("str tag", "!!str 12", "12"),
    ("non-specific tag", "! 12", "12"),
    ("int tag on quoted", "!!int '7'", 7),
    ("float tag on int", "!!float 2", 2),
    ("binary tag", "!!binary |\n  aGVs\n  bG8=", "aGVsbG8="),
    ("timestamp tag", "!!timestamp 2001-12-14", "2001-12-14"),
    ("set tag", "!!set {a, b}", {"a": None, "b": None}),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in SCALAR_CASES], ids=[c[0] for c in SCALAR_CASES])
def test_scalar(text, expected):
    value = load_one(f"v: {text}\n").obj["v"]
    assert value == expected
    assert type(value) is type(expected)


KEY_CASES = [
    ("int", "1", "1"),
    ("bool", "true", "true"),
    ("yaml 1.1 bool", "on", "true"),
    ("y", "y", "true"),
    ("float", "1.5", "1.5"),
    ("float in exponent form", "1e6", "1e+06"),
    ("float32 precision", "0.1", "0.1"),
    ("hex", "0x10", "16"),
    ("date", "2024-01-01", "2024-01-01"),
]


@pytest.mark.parametrize("key, expected", [c[1:] for c in KEY_CASES], ids=[c[0] for c in KEY_CASES])
def test_key_is_converted_to_a_string(key, expected):
    assert load_one(f"{key}: x\n").obj == {expected: "x"}


VALUE_ERROR_CASES = [
    ("null key", "~: x\n", "null key", (1, 1)),
    ("sequence key", "? [a]\n: x\n", "invalid map key", (1, 3)),
    ("infinity", "a: .inf\n", "unsupported value .inf", (1, 4)),
    ("nan", "a: [.nan]\n", "unsupported value .nan", (1, 5)),
    ("int tag on text", "a: !!int abc\n", "cannot decode !!str `abc` as a !!int", (1, 4)),
    ("bad base64", "a: !!binary '!!'\n", "invalid base64", (1, 4)),
    ("merge of a scalar", "a:\n  <<: 1\n", "map merge requires map or sequence of maps", (2, 3)),
]


@pytest.mark.parametrize(
    "text, words, where", [c[1:] for c in VALUE_ERROR_CASES], ids=[c[0] for c in VALUE_ERROR_CASES]
)
def test_value_error(text, words, where):
    error = refusal(text)
    assert words in error.message
    assert (error.line, error.column) == where


MERGE_CASES = [
    ("key after merge overrides", "b: &b {p: 1, q: 2}\nm:\n  <<: *b\n  q: 3\n", {"p": 1, "q": 3}),
    ("merge overrides key before it (go-yaml v2)", "b: &b {p: 1, q: 2}\nm:\n  q: 3\n  <<: *b\n", {"q": 2, "p": 1}),
    ("earlier merge in a list wins", "a: &a {p: a}\nb: &b {p: b, r: b}\nm:\n  <<: [*a, *b]\n", {"p": "a", "r": "b"}),
    ("quoted << is a plain key", "m:\n  '<<': 1\n", {"<<": 1}),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in MERGE_CASES], ids=[c[0] for c in MERGE_CASES])
def test_merge_key(text, expected):
    assert load_one(text).obj["m"] == expected


def test_values_are_plain_json():
    text = "when: 2024-01-01 10:00:00\nraw: !!binary aGk=\nport: 0x50\nratio: 1e-7\nitems: [on, ~, 1.5]\n"
    obj = load_one(text).obj
    assert json.loads(json.dumps(obj, allow_nan=False)) == obj
    assert obj == {"when": "2024-01-01 10:00:00", "raw": "aGk=", "port": 80, "ratio": 1e-7, "items": [True, None, 1.5]}


def test_document_equality_ignores_the_node_tree():
    first, second = load_documents("kind: A\n"), load_documents("kind: A\n")
    assert first == second == [Document(index=0, obj={"kind": "A"}, line=1, column=1)]
