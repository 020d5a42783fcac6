"""Lists in chunks over the in-memory storage: upstream's continue tokens, the registry's ``get_list``, and the
storage's read of objects as they were at a resourceVersion."""

import base64
import json
from datetime import datetime, timezone

import pytest

from apiserver import errors, paging
from apiserver.goencoding import GoError, check_valid, raw_url_b64decode
from apiserver.registry import NAMESPACE, NODE, POD, Registry
from apiserver.storage import HistoryCompacted, MemoryStorage


def token(version="meta.k8s.io/v1", rv=1, start="key"):
    """``encodeContinueOrDie`` of continue_test.go."""
    text = json.dumps({"v": version, "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def decoded(value: str) -> str:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()


# --- continue.go: Test_decodeContinue, case for case ----------------------------------------------------------

@pytest.mark.parametrize("value, key, rv", [
    pytest.param(token(), "/test/key", 1, id="valid"),
    pytest.param(token(start="/"), "/test/", 1, id="root path"),
])
def test_decode_continue(value, key, rv):
    assert paging.decode_continue(value, "/test/") == (key, rv)


@pytest.mark.parametrize("value, message", [
    pytest.param(token(version=""), paging.ERR_UNRECOGNIZED_VERSION + " ", id="empty version"),
    pytest.param(token(version="v1"), paging.ERR_UNRECOGNIZED_VERSION + " v1", id="invalid version"),
    pytest.param(token(rv=0), paging.ERR_INVALID_START_RV, id="invalid RV"),
    pytest.param(token(start=""), paging.ERR_EMPTY_START_KEY, id="no start Key"),
    pytest.param(token(start="../key"), "continue key is not valid: ../key", id="path traversal - parent"),
    pytest.param(token(start="./key"), "continue key is not valid: ./key", id="path traversal - local"),
    pytest.param(token(start="./../key"), "continue key is not valid: ./../key", id="path traversal - double parent"),
    pytest.param(token(start="key/../.."), "continue key is not valid: key/../..", id="path traversal - after parent"),
])
def test_decode_continue_refuses(value, message):
    with pytest.raises(paging.InvalidContinue) as caught:
        paging.decode_continue(value, "/test/")
    assert str(caught.value) == message


def test_encode_continue_writes_what_go_writes():
    value = paging.encode_continue("/default/pod-1\x00", "/default/", 42)
    assert "=" not in value
    assert decoded(value) == '{"v":"meta.k8s.io/v1","rv":42,"start":"pod-1\\u0000"}'
    assert paging.decode_continue(value, "/default/") == ("/default/pod-1\x00", 42)
    # the watch cache's prefix has no trailing slash: its keys keep their leading one
    assert decoded(paging.encode_continue("/default/pod-1\x00", "/default", 42)).endswith('"start":"/pod-1\\u0000"}')
    assert decoded(paging.encode_continue("/a&b<c>\x00", "/", -1)) == \
        '{"v":"meta.k8s.io/v1","rv":-1,"start":"a\\u0026b\\u003cc\\u003e\\u0000"}'


# --- Go's decoders, as a garbage token meets them -------------------------------------------------------------

@pytest.mark.parametrize("value, message", [
    ("garbage", "continue key is not valid: invalid character '\\u0081' looking for beginning of value"),
    ("abc=", "continue key is not valid: illegal base64 data at input byte 3"),
    ("a", "continue key is not valid: illegal base64 data at input byte 0"),
    ("ab+c", "continue key is not valid: illegal base64 data at input byte 2"),
    (token()[:-6], "continue key is not valid: unexpected end of JSON input"),
    (base64.urlsafe_b64encode(b"[1]").decode(),
     "continue key is not valid: json: cannot unmarshal array into Go value of type storage.continueToken"),
    (base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":"7","start":"a"}').decode().rstrip("="),
     "continue key is not valid: json: cannot unmarshal string into Go struct field continueToken.rv of type int64"),
])
def test_a_token_go_cannot_decode_is_refused_with_gos_words(value, message):
    with pytest.raises(paging.InvalidContinue) as caught:
        paging.decode_continue(value, "/")
    assert str(caught.value) == message


def test_go_json_keys_fold_case_and_later_duplicates_win():
    value = base64.urlsafe_b64encode(b'{"V":"meta.k8s.io/v1","RV":3,"Start":"x","start":"y"}').decode().rstrip("=")
    assert paging.decode_continue(value, "/") == ("/y", 3)


@pytest.mark.parametrize("data, message", [
    (b"", "unexpected end of JSON input"),
    (b"{", "unexpected end of JSON input"),
    (b"{}x", "invalid character 'x' after top-level value"),
    (b'{"a" 1}', "invalid character '1' after object key"),
    (b'{"a":1,}', "invalid character '}' looking for beginning of object key string"),
    (b"[1,]", "invalid character ']' looking for beginning of value"),
    (b'"a\nb"', "invalid character '\\n' in string literal"),
    (b'"\\x"', "invalid character 'x' in string escape code"),
    (b"tru", "invalid character ' ' in literal true (expecting 'e')"),
    (b"1.", "invalid character ' ' after decimal point in numeric literal"),
    (b"01", "invalid character '1' after top-level value"),
])
def test_go_json_syntax_errors(data, message):
    with pytest.raises(GoError) as caught:
        check_valid(data)
    assert str(caught.value) == message


def test_go_base64_skips_newlines():
    assert raw_url_b64decode(b"YWJj\nZA") == b"abcd"


# --- the registry's get_list over the in-memory storage -------------------------------------------------------

START = datetime(2025, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def registry():
    reg = Registry(MemoryStorage(now=START, history_length=1000))
    for ns in ("default", "team", "team-a"):
        reg.create(NAMESPACE, "", {"metadata": {"name": ns}})
    return reg


def pod(name, **labels):
    return {"metadata": {"name": name, "labels": labels}, "spec": {"containers": [{"name": "c", "image": "i"}]}}


def names(chunk):
    return [f'{o["metadata"]["namespace"]}/{o["metadata"]["name"]}' for o in chunk.items]


def test_items_come_in_etcd_key_order_whole_or_in_chunks(registry):
    for ns, name in [("team", "b"), ("team-a", "a"), ("default", "z"), ("team", "a")]:
        registry.create(POD, ns, pod(name))
    whole = registry.get_list(POD)
    assert names(whole) == ["default/z", "team-a/a", "team/a", "team/b"]  # "-" sorts before "/"
    seen, chunk = [], registry.get_list(POD, limit=3)
    seen += names(chunk)
    chunk = registry.get_list(POD, limit=3, continue_=chunk.continue_)
    assert seen + names(chunk) == names(whole)


def test_a_first_chunk_tells_the_token_and_the_remaining_count(registry):
    for name in "abcde":
        registry.create(POD, "default", pod(name))
    first = registry.get_list(POD, "default", limit=2)
    assert names(first) == ["default/a", "default/b"]
    assert first.remaining_item_count == 3
    # the first chunk is the watch cache's: its key keeps the leading slash; later ones are etcd's
    assert json.loads(decoded(first.continue_)) == {"v": "meta.k8s.io/v1", "rv": int(first.resource_version),
                                                     "start": "/b\x00"}
    second = registry.get_list(POD, "default", limit=2, continue_=first.continue_)
    assert (names(second), second.remaining_item_count) == (["default/c", "default/d"], 1)
    assert json.loads(decoded(second.continue_))["start"] == "d\x00"
    last = registry.get_list(POD, "default", limit=2, continue_=second.continue_)
    assert (names(last), last.continue_, last.remaining_item_count) == (["default/e"], "", None)
    assert first.resource_version == second.resource_version == last.resource_version
    assert first.list_meta == {"resourceVersion": first.resource_version, "continue": first.continue_,
                               "remainingItemCount": 3}
    assert last.list_meta == {"resourceVersion": first.resource_version}


def test_a_chunk_that_ends_the_list_exactly_has_no_token(registry):
    for name in "ab":
        registry.create(POD, "default", pod(name))
    chunk = registry.get_list(POD, "default", limit=2)
    assert (names(chunk), chunk.continue_, chunk.remaining_item_count) == (["default/a", "default/b"], "", None)


def test_selectors_count_toward_the_limit_and_hide_the_remaining_count(registry):
    for name, app in [("a", "web"), ("b", "db"), ("c", "web"), ("d", "db"), ("e", "web")]:
        registry.create(POD, "default", pod(name, app=app))
    first = registry.get_list(POD, "default", label_selector="app=web", limit=2)
    assert (names(first), first.remaining_item_count) == (["default/a", "default/c"], None)
    assert json.loads(decoded(first.continue_))["start"] == "/c\x00"
    rest = registry.get_list(POD, "default", label_selector="app=web", limit=2, continue_=first.continue_)
    assert (names(rest), rest.continue_) == (["default/e"], "")


def test_limit_is_ignored_for_resource_version_0_and_for_a_single_name(registry):
    for name in "abc":
        registry.create(POD, "default", pod(name))
    assert names(registry.get_list(POD, "default", limit=1, resource_version="0")) == [
        "default/a", "default/b", "default/c"]
    single = registry.get_list(POD, "default", limit=1, field_selector="metadata.name=a")
    assert (names(single), single.continue_) == (["default/a"], "")
    # across namespaces the name does not make a key: it is paged like any selector
    assert registry.get_list(POD, limit=1, field_selector="metadata.name=a").continue_


def test_later_chunks_show_the_objects_as_they_were_at_the_first(registry):
    for name in "abcd":
        registry.create(POD, "default", pod(name, v="1"))
    first = registry.get_list(POD, "default", limit=2)
    registry.create(POD, "default", pod("bb"))  # created after: not listed
    registry.delete(POD, "default", "c")  # deleted after: listed as it was
    current = registry.get(POD, "default", "d")
    registry.update(POD, "default", "d", {**current, "metadata": {**current["metadata"], "labels": {"v": "2"}}})
    rest = registry.get_list(POD, "default", limit=10, continue_=first.continue_)
    assert names(rest) == ["default/c", "default/d"]
    assert rest.items[1]["metadata"]["labels"] == {"v": "1"}
    assert rest.items[1]["metadata"]["resourceVersion"] == current["metadata"]["resourceVersion"]
    assert rest.resource_version == first.resource_version
    assert names(registry.get_list(POD, "default")) == ["default/a", "default/b", "default/bb", "default/d"]


def test_a_chunk_from_before_the_compacted_history_is_410_with_a_token_going_on_at_the_newest(registry):
    for name in "abcd":
        registry.create(POD, "default", pod(name))
    first = registry.get_list(POD, "default", limit=2)
    registry.create(POD, "default", pod("c2"))
    registry.storage.compact(registry.storage.current_resource_version())
    with pytest.raises(errors.StatusError) as caught:
        registry.get_list(POD, "default", limit=2, continue_=first.continue_)
    status = caught.value.status()
    assert (status["code"], status["reason"], status["message"]) == (410, "Expired", paging.INCONSISTENT_CONTINUE)
    assert "details" not in status
    fresh = status["metadata"]["continue"]
    assert json.loads(decoded(fresh)) == {"v": "meta.k8s.io/v1", "rv": -1, "start": "b\x00"}
    rest = registry.get_list(POD, "default", limit=2, continue_=fresh)
    assert names(rest) == ["default/c", "default/c2"]  # inconsistent, as the message warns
    assert rest.resource_version == str(registry.storage.current_resource_version())


@pytest.mark.parametrize("value, message", [
    ("garbage", "invalid continue token: continue key is not valid: invalid character '\\u0081' looking for "
                "beginning of value"),
    (token(rv=0), "invalid continue token: " + paging.ERR_INVALID_START_RV),
])
def test_a_bad_token_is_a_400(registry, value, message):
    with pytest.raises(errors.StatusError) as caught:
        registry.get_list(POD, "default", limit=2, continue_=value)
    assert (caught.value.code, caught.value.reason, caught.value.message) == (400, "BadRequest", message)


def test_a_resource_version_beside_a_token_is_a_400_unless_0(registry):
    registry.create(POD, "default", pod("a"))
    registry.create(POD, "default", pod("b"))
    first = registry.get_list(POD, "default", limit=1)
    with pytest.raises(errors.StatusError) as caught:
        registry.get_list(POD, "default", limit=1, continue_=first.continue_, resource_version="5")
    assert (caught.value.code, caught.value.message) == (400, paging.RESOURCE_VERSION_WITH_CONTINUE)
    assert names(registry.get_list(POD, "default", limit=1, continue_=first.continue_, resource_version="0")) == [
        "default/b"]


def test_a_token_from_the_future_is_etcds_error(registry):
    with pytest.raises(errors.StatusError) as caught:
        registry.get_list(POD, "default", limit=1, continue_=token(rv=10**9, start="a"))
    status = caught.value.status()
    assert (status["code"], status["message"]) == (500, "etcdserver: mvcc: required revision is a future revision")
    assert "reason" not in status


def test_cluster_scoped_lists_page_by_name(registry):
    for name in ("n2", "n1", "n3"):
        registry.create(NODE, "", {"metadata": {"name": name}})
    first = registry.get_list(NODE, limit=2)
    assert [n["metadata"]["name"] for n in first.items] == ["n1", "n2"]
    assert json.loads(decoded(first.continue_))["start"] == "/n2\x00"
    rest = registry.get_list(NODE, limit=2, continue_=first.continue_)
    assert [n["metadata"]["name"] for n in rest.items] == ["n3"]


# --- MemoryStorage.list_range ---------------------------------------------------------------------------------

def test_state_at_a_revision_survives_compaction_as_etcd_keeps_it(registry):
    storage = registry.storage
    registry.create(POD, "default", pod("old", v="1"))  # never changed again before the compaction
    registry.create(POD, "default", pod("gone"))
    at = storage.current_resource_version()
    registry.delete(POD, "default", "gone")
    storage.compact(at)
    current = registry.get(POD, "default", "old")
    registry.update(POD, "default", "old", {**current, "metadata": {**current["metadata"], "labels": {"v": "2"}}})
    found = storage.list_range(POD, "default", revision=at)
    assert [(o["metadata"]["name"], o["metadata"]["labels"]) for o in found.objects] == [
        ("gone", {}), ("old", {"v": "1"})]
    with pytest.raises(HistoryCompacted):
        storage.list_range(POD, "default", revision=at - 1)
    with pytest.raises(HistoryCompacted):
        storage.changes_since(at - 1)
    assert [e.type for e in storage.changes_since(at)] == ["DELETED", "MODIFIED"]
