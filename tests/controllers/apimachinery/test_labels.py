"""Label selectors and name validation against upstream apimachinery 0.32 behaviour.

Case names and most inputs come from k8s.io/apimachinery/pkg/labels/selector_test.go
(TestSelectorParse, TestSelectorMatches, TestSetSelectorParser, TestToString) and
pkg/util/validation; messages are upstream's, character for character.
"""

import ast
import pathlib
import subprocess
import sys

import pytest

from controllers.apimachinery.labels import (
    SelectorError,
    everything,
    format_label_selector,
    format_labels,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    new_requirement,
    nothing,
    parse_selector,
    selector_from_label_selector,
    selector_from_set,
)

QNAME_REGEX_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
    "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
    "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
DNS_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
BINARY_OPS = "in, notin, =, ==, !=, gt, lt"


# --- parsing: canonical form ------------------------------------------------------

@pytest.mark.parametrize(
    "text, canonical",
    [
        # TestSelectorParse good strings: canonical form is the input without spaces.
        ("x=a,y=b,z=c", "x=a,y=b,z=c"),
        ("", ""),
        ("x!=a,y=b", "x!=a,y=b"),
        ("x=", "x="),
        ("x= ", "x="),
        ("x=,z= ", "x=,z="),
        ("x= ,z= ", "x=,z="),
        ("!x", "!x"),
        ("x>1", "x>1"),
        ("x>1,z<5", "x>1,z<5"),
        # TestDeterministicParse: requirements are sorted by key.
        ("x=a,a=x", "a=x,x=a"),
        # TestSetSelectorParser
        ("\rx", "x"),
        ("this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"),
        ("this-is-another-dns.domain.com/key-with-dash in (so,what)",
         "this-is-another-dns.domain.com/key-with-dash in (so,what)"),
        ("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)", "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)"),
        ("foo  in\t (abc)", "foo in (abc)"),
        ("x notin\n (abc)", "x notin (abc)"),
        ("x  notin\t\t(abc,def)", "x notin (abc,def)"),
        ("x in (abc,)", "x in (,abc)"),
        ("x in ()", "x in ()"),
        ("x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"),
        ("x,y in (a)", "x,y in (a)"),
        ("x=a,y!=b,z in (h,i,j)", "x=a,y!=b,z in (h,i,j)"),
        ("x notin ( )", "x notin ()"),
        ("x notin (, a)", "x notin (,a)"),
        ("a ", "a"),
        ("a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)"),
        ("notin=in", "notin=in"),
        ("x==a", "x==a"),
        ("x in (b,a,b)", "x in (a,b)"),
        ("app.kubernetes.io/name=web", "app.kubernetes.io/name=web"),
    ],
    ids=lambda v: repr(v),
)
def test_parse_selector_canonical_string(text, canonical):
    assert str(parse_selector(text)) == canonical


def test_parse_selector_requirements_are_sorted_and_typed():
    sel = parse_selector("z in (b,a),!y,x")
    assert [(r.key, r.operator, r.values) for r in sel.requirements] == [
        ("x", "exists", ()),
        ("y", "!", ()),
        ("z", "in", ("a", "b")),
    ]


# --- parsing: errors ---------------------------------------------------------------

@pytest.mark.parametrize(
    "text, message",
    [
        ("x==a==b", "found '==', expected: ',' or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        ("x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": "
                "for 'Gt', 'Lt' operators, the value must be an integer"),
        ("x,,y", "found ',', expected: identifier after ','"),
        (",x,y", "found ',', expected: !, identifier, or 'end of string'"),
        ("x nott in (y)", f"unable to parse requirement: found 'nott', expected: {BINARY_OPS}"),
        ("a in (xyz),", "found '', expected: identifier after ','"),
        ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"),
        ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'"),
        ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
        ("a (", f"unable to parse requirement: found '(', expected: {BINARY_OPS}"),
        ("(", "found '(', expected: !, identifier, or 'end of string'"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("x in a", "unable to parse requirement: found 'a' expected: '('"),
        ("x=(", "unable to parse requirement: found '(', expected: identifier"),
        ("x=a b", "found 'b', expected: ',' or 'end of string'"),
        ("-x=a", f"unable to parse requirement: <nil>: Invalid value: \"-x\": name part {QNAME_REGEX_MSG}"),
        ("x=-a", f"unable to parse requirement: values[0][x]: Invalid value: \"-a\": {LABEL_VALUE_MSG}"),
        ("x=a||y=b", f"unable to parse requirement: values[0][x]: Invalid value: \"a||y\": {LABEL_VALUE_MSG}"),
        ("x in (a,-b)", f"unable to parse requirement: values[0][x]: Invalid value: \"-b\": {LABEL_VALUE_MSG}"),
        # A negative number is a valid integer but not a valid label value.
        ("x>-3", f"unable to parse requirement: values[0][x]: Invalid value: \"-3\": {LABEL_VALUE_MSG}"),
        ("/x", "unable to parse requirement: <nil>: Invalid value: \"/x\": prefix part must be non-empty"),
    ],
    ids=lambda v: repr(v),
)
def test_parse_selector_errors(text, message):
    with pytest.raises(SelectorError) as err:
        parse_selector(text)
    assert str(err.value) == message


# --- matching ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, labels, matches",
    [
        # TestSelectorMatches
        ("", {"x": "y"}, True),
        ("x=y", {"x": "y"}, True),
        ("x=y,z=w", {"x": "y", "z": "w"}, True),
        ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
        ("notin=in", {"notin": "in"}, True),
        ("x", {"x": "z"}, True),
        ("!x", {"y": "z"}, True),
        ("x>1", {"x": "2"}, True),
        ("x<1", {"x": "0"}, True),
        ("x=z", {}, False),
        ("x=y", {"x": "z"}, False),
        ("x=y,z=w", {"x": "w", "z": "w"}, False),
        ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
        ("x", {"y": "z"}, False),
        ("!x", {"x": "z"}, False),
        ("x>1", {"x": "0"}, False),
        ("x<1", {"x": "2"}, False),
        ("foo=bar,baz=blah", {"foo": "bar", "baz": "blah"}, True),
        ("foo=blah", {"foo": "bar", "baz": "blah"}, False),
        # TestRequirementSelectorMatching
        ("x notin (),y", {"y": ""}, True),
        ("x in ()", {"y": "baz"}, False),
        ("z>1", {"z": "v2"}, False),
        ("x!=a", {}, True),
        ("x notin (a,b)", {"x": "c"}, True),
        ("x notin (a,b)", {"x": "a"}, False),
        ("x in (a,b)", {"x": "b"}, True),
        ("x=", {"x": ""}, True),
        ("x=", {}, False),
        ("x<10", {"x": "9"}, True),
        ("x<10", {"x": "-2"}, True),
        ("x>1", {"x": "1.5"}, False),
    ],
    ids=lambda v: repr(v),
)
def test_selector_matches(text, labels, matches):
    assert parse_selector(text).matches(labels) is matches


def test_matches_treats_none_labels_as_empty():
    assert parse_selector("!x").matches(None) is True
    assert parse_selector("x").matches(None) is False


def test_everything_and_nothing():
    assert everything().empty is True and everything().matches({"x": "y"}) is True
    assert str(everything()) == ""
    assert nothing().empty is False and nothing().matches({}) is False
    assert str(nothing()) == ""
    assert parse_selector("").empty is True
    assert parse_selector("x").empty is False


def test_add_keeps_requirements_sorted_by_key():
    sel = parse_selector("b=1").add(new_requirement("a", "in", ["y", "x"]))
    assert str(sel) == "a in (x,y),b=1"


@pytest.mark.parametrize(
    "text, label, expected",
    [
        ("x=a", "x", ("a", True)),
        ("x==a", "x", ("a", True)),
        ("x in (a)", "x", ("a", True)),
        ("x in (a,b)", "x", ("", False)),
        ("x!=a", "x", ("", False)),
        ("y=a", "x", ("", False)),
    ],
    ids=lambda v: repr(v),
)
def test_requires_exact_match(text, label, expected):
    assert parse_selector(text).requires_exact_match(label) == expected


def test_selector_from_set():
    sel = selector_from_set({"b": "2", "a": "1"})
    assert str(sel) == "a=1,b=2"
    assert sel.matches({"a": "1", "b": "2", "c": "3"}) is True
    assert selector_from_set({}).empty is True


# --- new_requirement ---------------------------------------------------------------

@pytest.mark.parametrize(
    "key, op, values, message",
    [
        ("x", "in", [], "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"),
        ("x", "=", ["a", "b"], 'values: Invalid value: []string{"a", "b"}: exact-match compatibility requires one single value'),
        ("x", "exists", ["a"], 'values: Invalid value: []string{"a"}: values set must be empty for exists and does not exist'),
        ("x", "gt", ["1", "2"], 'values: Invalid value: []string{"1", "2"}: for \'Gt\', \'Lt\' operators, exactly one value is required'),
        ("x", "~", [], 'operator: Unsupported value: "~": supported values: "in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"'),
        ("-x", "exists", [], f'key: Invalid value: "-x": name part {QNAME_REGEX_MSG}'),
        ("-x", "in", [], f'[key: Invalid value: "-x": name part {QNAME_REGEX_MSG}, '
                         "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty]"),
    ],
    ids=["in-empty", "equals-two", "exists-with-values", "gt-two", "bad-operator", "bad-key", "aggregated"],
)
def test_new_requirement_errors(key, op, values, message):
    with pytest.raises(SelectorError) as err:
        new_requirement(key, op, values)
    assert str(err.value) == message


# --- LabelSelector objects -----------------------------------------------------------

@pytest.mark.parametrize(
    "ls, canonical, labels, matches",
    [
        (None, "", {"a": "b"}, False),
        ({}, "", {"a": "b"}, True),
        ({"matchLabels": {}, "matchExpressions": []}, "", {}, True),
        ({"matchLabels": {"app": "web"}}, "app=web", {"app": "web", "x": "y"}, True),
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2", {"a": "1"}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]},
         "tier in (be,fe)", {"tier": "be"}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["fe"]}]},
         "tier notin (fe)", {}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, "tier", {"tier": ""}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, "!tier", {"tier": ""}, False),
        ({"matchLabels": {"z": "1"}, "matchExpressions": [{"key": "a", "operator": "Exists"}]},
         "a,z=1", {"a": "x", "z": "1"}, True),
        ({"matchLabels": {"batch.kubernetes.io/controller-uid": "abc"}},
         "batch.kubernetes.io/controller-uid=abc", {"batch.kubernetes.io/controller-uid": "abc"}, True),
    ],
    ids=["nil", "empty", "empty-lists", "matchLabels", "matchLabels-sorted", "In", "NotIn", "Exists",
         "DoesNotExist", "mixed", "job-selector"],
)
def test_selector_from_label_selector(ls, canonical, labels, matches):
    sel = selector_from_label_selector(ls)
    assert str(sel) == canonical
    assert sel.matches(labels) is matches


def test_nil_label_selector_is_nothing_not_empty():
    assert selector_from_label_selector(None).empty is False
    assert selector_from_label_selector({}).empty is True


@pytest.mark.parametrize(
    "ls, message",
    [
        ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
         '"Gt" is not a valid label selector operator'),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
         "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"),
        ({"matchLabels": {"a": "-b"}}, f'values[0][a]: Invalid value: "-b": {LABEL_VALUE_MSG}'),
    ],
    ids=["unknown-operator", "in-without-values", "bad-value"],
)
def test_selector_from_label_selector_errors(ls, message):
    with pytest.raises(SelectorError) as err:
        selector_from_label_selector(ls)
    assert str(err.value) == message


@pytest.mark.parametrize(
    "ls, text",
    [
        (None, "<none>"),
        ({}, "<none>"),
        ({"matchLabels": {"app": "web"}}, "app=web"),
        ({"matchLabels": {"controller-uid": "u1", "job-name": "pi"}}, "controller-uid=u1,job-name=pi"),
        ({"matchLabels": {"k": "v"}, "matchExpressions": [{"key": "k2", "operator": "In", "values": ["b", "a"]}]},
         "k=v,k2 in (a,b)"),
        ({"matchExpressions": [{"key": "k", "operator": "Bogus"}]}, "<error>"),
    ],
    ids=["nil", "empty", "one-label", "two-labels", "labels-and-in", "invalid"],
)
def test_format_label_selector(ls, text):
    assert format_label_selector(ls) == text


@pytest.mark.parametrize(
    "labels, text",
    [
        (None, "<none>"),
        ({}, "<none>"),
        ({"b": "2", "a": "1"}, "a=1,b=2"),
        ({"kubernetes.io/os": "linux"}, "kubernetes.io/os=linux"),
        ({"a": ""}, "a="),
    ],
    ids=["nil", "empty", "sorted", "prefixed", "empty-value"],
)
def test_format_labels(labels, text):
    assert format_labels(labels) == text


# --- validation helpers ---------------------------------------------------------------

@pytest.mark.parametrize(
    "value, errors",
    [
        ("simple", []),
        ("now-with-dashes", []),
        ("1-starts-with-num", []),
        ("1234", []),
        ("simple/simple", []),
        ("now-with-dashes/simple", []),
        ("example.com/Upper_case-123", []),
        ("a" * 63, []),
        ("a" * 253 + "/a", []),
        ("", ["name part must be non-empty", f"name part {QNAME_REGEX_MSG}"]),
        ("nospecialchars%^=@", [f"name part {QNAME_REGEX_MSG}"]),
        ("-starts-with-dash", [f"name part {QNAME_REGEX_MSG}"]),
        ("a" * 64, ["name part must be no more than 63 characters"]),
        ("/simple", ["prefix part must be non-empty"]),
        ("Example.com/name", [f"prefix part {DNS_SUBDOMAIN_MSG}"]),
        ("a" * 254 + "/a", ["prefix part must be no more than 253 characters"]),
        ("example.com/", ["name part must be non-empty", f"name part {QNAME_REGEX_MSG}"]),
        ("a/b/c", [f"a qualified name {QNAME_REGEX_MSG} with an optional DNS subdomain prefix and '/' "
                   "(e.g. 'example.com/MyName')"]),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_is_qualified_name(value, errors):
    assert list(is_qualified_name(value)) == errors


@pytest.mark.parametrize(
    "value, errors",
    [
        ("", []),
        ("simple", []),
        ("now-with-dashes", []),
        ("1-starts-with-num", []),
        ("end-with-num-1", []),
        ("1234", []),
        ("a" * 63, []),
        ("Upper_Case.ok", []),
        ("nospecialchars%^=@", [LABEL_VALUE_MSG]),
        ("Tama-nui-te-rā.is.Māori.sun", [LABEL_VALUE_MSG]),
        ("\\backslashes\\are\\bad", [LABEL_VALUE_MSG]),
        ("-starts-with-dash", [LABEL_VALUE_MSG]),
        ("ends-with-dash-", [LABEL_VALUE_MSG]),
        ("a" * 64, ["must be no more than 63 characters"]),
        ("-" + "a" * 63, ["must be no more than 63 characters", LABEL_VALUE_MSG]),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_is_valid_label_value(value, errors):
    assert list(is_valid_label_value(value)) == errors


@pytest.mark.parametrize(
    "value, errors",
    [
        ("a", []),
        ("ab", []),
        ("a-b", []),
        ("0", []),
        ("a" * 63, []),
        ("", [DNS_LABEL_MSG]),
        ("A", [DNS_LABEL_MSG]),
        ("a.b", ["must not contain dots"]),
        ("-a", [DNS_LABEL_MSG]),
        ("a_b", [DNS_LABEL_MSG]),
        ("a" * 64, ["must be no more than 63 characters"]),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_is_dns1123_label(value, errors):
    assert is_dns1123_label(value) == errors


@pytest.mark.parametrize(
    "value, errors",
    [
        ("a", []),
        ("a.b.c", []),
        ("pi-bxk7j", []),
        ("1.2.3.4", []),
        ("a" * 253, []),
        ("", [DNS_SUBDOMAIN_MSG]),
        ("A.b", [DNS_SUBDOMAIN_MSG]),
        ("a..b", [DNS_SUBDOMAIN_MSG]),
        ("a.", [DNS_SUBDOMAIN_MSG]),
        ("a_b", [DNS_SUBDOMAIN_MSG]),
        ("a" * 254, ["must be no more than 253 characters"]),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_is_dns1123_subdomain(value, errors):
    assert is_dns1123_subdomain(value) == errors


# --- package purity (every module of controllers/apimachinery) -------------------------

PACKAGE_DIR = pathlib.Path(__file__).resolve().parents[3] / "controllers" / "apimachinery"


def _imported_top_level_modules(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize(
    "module", sorted(p.name for p in PACKAGE_DIR.glob("*.py")), ids=lambda name: name,
)
def test_apimachinery_imports_only_stdlib_and_itself(module):
    for name in _imported_top_level_modules(PACKAGE_DIR / module):
        if name.startswith("controllers.apimachinery"):
            continue
        assert name.split(".")[0] in sys.stdlib_module_names, f"{module} imports {name}"


def test_importing_apimachinery_loads_no_django_channels_or_kubeviz():
    modules = ", ".join(f"controllers.apimachinery.{p.stem}" for p in sorted(PACKAGE_DIR.glob("*.py"))
                        if p.stem != "__init__")
    code = (
        f"import sys, importlib\n"
        f"for m in '{modules}'.split(', '): importlib.import_module(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'channels', 'daphne', 'kubeviz'))\n"
        f"print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=PACKAGE_DIR.parents[1])
    assert result.stdout.strip() == ""
