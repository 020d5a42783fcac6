"""Load learner-supplied YAML (or JSON) manifests safely, keeping the position of every field.

The apply endpoint answers per document and points every error at the line and column of the field
at fault, so a plain ``yaml.safe_load`` is not enough: it forgets positions, materialises alias bombs,
recurses without bound and turns YAML 1.1 oddities into ``datetime`` objects. This module reads the
*event* stream of PyYAML's parser (libyaml's ``CSafeLoader`` when available), composes its own small
node tree with positions, and builds plain JSON values from it, refusing hostile input on the way.
It does not use PyYAML's composer: libyaml's composer recurses in C and crashes the whole process
(segmentation fault) on 200,000 nested ``[``, well inside the size limit; the event loop here is
iterative and stops at ``max_depth``.

Values follow what Kubernetes itself sees: ``kubectl`` and the API server read YAML through
``sigs.k8s.io/yaml``, which decodes with go-yaml v2 (YAML 1.1) and then converts the result to JSON.
So, like upstream:

* ``yes``/``no``/``on``/``off``/``y``/``n`` (in their lower, Title and UPPER spellings) are booleans;
  ``~``, ``null`` and an empty value are null.
* Integers follow Go's ``strconv.ParseInt(s, 0, 64)`` after dropping ``_``: ``0755`` is octal (493),
  ``0x1F`` hex, ``0b101`` binary, ``0o17`` octal. Floats need no dot (``1e3`` is a number).
* A number reaches the API server as JSON, so a float with an integral value below 1e21 becomes an
  ``int`` (``replicas: 3.0`` and ``1e3`` load as ``3`` and ``1000``); ``.inf`` and ``.nan`` cannot be
  written in JSON and are refused, as ``json.Marshal`` refuses them upstream.
* Timestamps stay strings: an unquoted ``2024-01-01`` loads as ``"2024-01-01"``.
* Mapping keys are converted to strings as sigs.k8s.io/yaml does: ``1`` -> ``"1"``, ``true`` ->
  ``"true"`` (so a key written ``on:`` or ``y:`` is ``"true"`` too), a float key uses Go's shortest
  float32 form (``1e6`` -> ``"1e+06"``); a null key and a collection used as a key are errors.
* Merge keys (``<<: *base``) work as in go-yaml v2, which applies entries in document order: keys
  written *after* ``<<`` override merged ones, but a merge overrides keys written *before* it; in a
  list of merges (``<<: [*a, *b]``) the earlier one wins.
* ``!!set`` is a mapping whose values are null, as go-yaml v2 decodes it.

Where this module deliberately differs from upstream:

* Duplicate keys in one mapping are an error (go-yaml v2 silently keeps the last one unless decoding
  strictly), worded as go-yaml v3 reports it: ``mapping key "x" already defined at line N``.
  A key that repeats a *merged* key is an override, not a duplicate.
* Tags outside the YAML core types are refused (go-yaml would quietly treat ``!foo x`` as ``"x"``),
  so ``!!python/object/apply:...`` and friends never get near a constructor.
* ``!!binary`` data stays a base64 string (go-yaml decodes it to raw bytes and JSON then mangles any
  non-UTF-8 byte); line breaks inside it are removed.
* A JSON document is read as YAML (JSON is a subset of YAML 1.2), so concatenated JSON objects without
  ``---`` between them are a syntax error, unlike ``kubectl``'s JSON stream decoder.

Positions are 1-based, as YAML parsers print them. A document starts at its root node (after any
``---`` line and comments); a mapping member is located at its key, a list item where the item
begins; aliased values and merged keys point at the place where the anchored node is defined.

With libyaml, a stream of 1,000 small Jobs loads in about 0.15 s and a 250 KB manifest in about
40 ms; the pure-Python parser, used only when PyYAML lacks libyaml, is five to ten times slower.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import struct
from dataclasses import dataclass, field

import yaml

# libyaml is several times faster; both produce the same events and marks, only some messages differ
# ("mapping values are not allowed in this context" from libyaml, "... here" from pure Python).
_Loader = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None
if _Loader is None:
    _Loader = yaml.SafeLoader

DEFAULT_MAX_BYTES = 1_048_576
DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_NODES = 200_000
DEFAULT_MAX_ALIAS_EXPANSION = 100_000

STATUS_BAD_REQUEST = 400
STATUS_REQUEST_ENTITY_TOO_LARGE = 413
REASON_BAD_REQUEST = "BadRequest"
REASON_REQUEST_ENTITY_TOO_LARGE = "RequestEntityTooLarge"

# Upstream apiserver text: "Request entity too large: limit is 3145728".
MESSAGE_TOO_LARGE = "Request entity too large: limit is {limit} bytes, the manifest has {size}"
MESSAGE_TOO_DEEP = "document nesting is deeper than {limit} levels; refusing to load it"
MESSAGE_TOO_DEEP_ALIAS = (
    "document nesting is deeper than {limit} levels through aliases (YAML anchors); refusing to load it"
)
MESSAGE_TOO_MANY_NODES = "input has more than {limit} nodes; refusing to load it"
MESSAGE_ALIAS_BOMB = (
    "document expands to more than {limit} nodes through aliases (YAML anchors); refusing to load it"
)
MESSAGE_RECURSIVE_ALIAS = "anchor '{anchor}' value contains itself"  # go-yaml v2
MESSAGE_UNKNOWN_ANCHOR = "unknown anchor '{anchor}' referenced"  # go-yaml v2
MESSAGE_DUPLICATE_KEY = 'mapping key "{key}" already defined at line {line}'  # go-yaml v3
MESSAGE_WANT_MAP = "map merge requires map or sequence of maps as the value"  # go-yaml v2

_CORE = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_CORE + t for t in ("str", "int", "float", "bool", "null"))
_BINARY, _TIMESTAMP, _MERGE = (_CORE + t for t in ("binary", "timestamp", "merge"))
_MAP_TAGS = frozenset({None, "!", _CORE + "map", _CORE + "set"})
_SEQ_TAGS = frozenset({None, "!", _CORE + "seq"})

# Characters YAML 1.1 accepts in a stream (the same set PyYAML's reader checks).
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class ManifestError(Exception):
    """A manifest the apply endpoint must refuse, located where YAML reports the problem.

    ``line``/``column`` are 1-based (``None`` when the error has no place, such as an oversized body).
    ``document_index`` is the index the failing document would have had, and ``documents_before`` the
    documents loaded completely before the error, so a caller may still report or apply those.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        status: int = STATUS_BAD_REQUEST,
        reason: str = REASON_BAD_REQUEST,
    ):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.status = status
        self.reason = reason
        self.document_index: int | None = None
        self.documents_before: list[Document] = []

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}, column {self.column}: {self.message}"


@dataclass
class Document:
    """One non-empty document of a stream: its JSON-compatible value and where it starts."""

    index: int
    obj: object
    line: int
    column: int
    _root: object = field(default=None, repr=False, compare=False)

    def position(self, path) -> tuple[int, int]:
        """Line and column (1-based) of the field at ``path``, or of its deepest existing ancestor.

        ``path`` is a list of keys and indexes (``["spec", "containers", 0, "image"]``) or a Kubernetes
        field path (``"spec.containers[0].image"``, ``"metadata.labels[app.kubernetes.io/name]"``); a
        dotted key written as plain segments (``metadata.labels.app.kubernetes.io/name``) is found too.
        A mapping member is located at its key, a list item at the item; an empty path is the root.
        """
        if isinstance(path, str):
            segments = _parse_field_path(path)
        else:
            segments = [_Key(s) if isinstance(s, str) else s for s in path]
        node, line, column = self._root, self.line, self.column
        i = 0
        while i < len(segments):
            segment = segments[i]
            if isinstance(node, _Map):
                entry = node.fields.get(str(segment))
                if entry is None and type(segment) is str:
                    # A key containing dots, written as consecutive plain segments.
                    j = i + 1
                    joined = segment
                    while entry is None and j < len(segments) and type(segments[j]) is str:
                        joined = f"{joined}.{segments[j]}"
                        entry = node.fields.get(joined)
                        j += 1
                    if entry is not None:
                        i = j - 1
                if entry is None:
                    break
                line, column, node = entry
            elif isinstance(node, _Seq):
                index = _as_index(segment)
                if index is None or index >= len(node.items):
                    break
                line, column = node.marks[index]
                node = node.items[index]
            else:
                break
            i += 1
        return line, column


def load_documents(
    source: str | bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_alias_expansion: int = DEFAULT_MAX_ALIAS_EXPANSION,
) -> list[Document]:
    """Parse a YAML/JSON stream into its non-empty documents, or raise ``ManifestError``.

    The size is checked before parsing (413). ``max_depth`` bounds collection nesting, ``max_nodes``
    the nodes of the whole input counting alias expansions, ``max_alias_expansion`` the nodes that
    aliases may add to the whole input; each is checked while parsing, before anything is expanded.
    The first error stops loading; it carries the documents loaded before it.
    """
    text = _decode(source, max_bytes)
    bad = _NON_PRINTABLE.search(text)
    if bad:
        line, column = _line_column(text, bad.start())
        raise ManifestError(
            f"unacceptable character #x{ord(bad.group()):04x}: control characters are not allowed",
            line=line,
            column=column,
        )
    if _Loader is yaml.SafeLoader and text.lstrip()[:1] in ("{", "["):
        # libyaml (like go-yaml) accepts tabs as separators in JSON; PyYAML's pure scanner does not.
        # Valid JSON has tabs only between tokens, and one space keeps every column where it was.
        text = text.replace("\t", " ")

    documents: list[Document] = []
    loader = _Loader(text)
    try:
        composer = _Composer(loader, max_depth, max_nodes, max_alias_expansion)
        for root in composer.documents():
            documents.append(
                Document(
                    index=len(documents),
                    obj=composer.json_value(root, root.line, root.column),
                    line=root.line,
                    column=root.column,
                    _root=root,
                )
            )
    except yaml.MarkedYAMLError as exc:
        error = _syntax_error(exc, text)
        error.document_index = len(documents)
        error.documents_before = documents
        raise error from None
    except yaml.YAMLError as exc:
        error = ManifestError(f"invalid YAML: {exc}")
        error.document_index = len(documents)
        error.documents_before = documents
        raise error from None
    except ManifestError as error:
        error.document_index = len(documents)
        error.documents_before = documents
        raise
    finally:
        loader.dispose()
    return documents


# Go's encoding/json error for input nested deeper than its limit (the API server's JSON decoder).
MESSAGE_JSON_TOO_DEEP = "exceeded max depth"


def load_json(data: str | bytes, *, max_depth: int = DEFAULT_MAX_DEPTH):
    """A JSON request body, or ``ValueError`` (also for one nested deeper than ``max_depth``, which the rest of
    the server would walk recursively: no API object comes near it)."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError(MESSAGE_JSON_TOO_DEEP) from None
    # The collections at each depth, one level at a time (no recursion).
    level = [value] if isinstance(value, (dict, list)) else []
    for _depth in range(max_depth):
        level = [child for item in level for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, (dict, list))]
        if not level:
            return value
    raise ValueError(MESSAGE_JSON_TOO_DEEP)


# -- input ------------------------------------------------------------------------------------------


def _decode(source: str | bytes, max_bytes: int) -> str:
    if isinstance(source, str):
        # A character is at least one byte, so a long string is too large without encoding it.
        size = len(source) if len(source) > max_bytes else len(source.encode("utf-8", "surrogatepass"))
        _check_size(size, max_bytes)
        return source[1:] if source.startswith("\ufeff") else source
    if not isinstance(source, (bytes, bytearray, memoryview)):
        raise TypeError(f"manifest source must be str or bytes, not {type(source).__name__}")
    data = bytes(source)
    _check_size(len(data), max_bytes)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # YAML allows UTF-16 with a byte order mark, and so does go-yaml.
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise ManifestError(
            f"manifest is not valid {exc.encoding.upper().removesuffix('-SIG')} "
            f"(byte 0x{data[exc.start]:02x}: {exc.reason})",
            line=line,
            column=column,
        ) from None


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ManifestError(
            MESSAGE_TOO_LARGE.format(limit=max_bytes, size=size),
            status=STATUS_REQUEST_ENTITY_TOO_LARGE,
            reason=REASON_REQUEST_ENTITY_TOO_LARGE,
        )


def _line_column(text: str, index: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _syntax_error(exc: yaml.MarkedYAMLError, text: str) -> ManifestError:
    mark = exc.problem_mark or exc.context_mark
    message = exc.problem or exc.context or "invalid YAML"
    context_mark = exc.context_mark
    if exc.problem and exc.context:
        if context_mark is not None and context_mark is not mark:
            message += f" ({exc.context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
        else:
            message += f" ({exc.context})"
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t" and "tab" not in message:
        message += "; YAML indentation must use spaces, not tabs"
    if mark is None:
        return ManifestError(message)
    return ManifestError(message, line=mark.line + 1, column=mark.column + 1)


# -- nodes ------------------------------------------------------------------------------------------
# Positions are stored 1-based. A collection's ``size`` counts the nodes it expands to (aliases
# included) and ``height`` its collection nesting; both are final once ``closed``.


class _Scalar:
    __slots__ = ("raw", "line", "column", "merge")
    size = 1
    height = 0
    closed = True

    def __init__(self, raw, line, column, merge=False):
        self.raw = raw  # the resolved YAML value, before JSON conversion (keys need it unconverted)
        self.line = line
        self.column = column
        self.merge = merge


class _Seq:
    __slots__ = ("items", "marks", "value", "line", "column", "size", "height", "closed")

    def __init__(self, line, column):
        self.items = []
        self.marks = []
        self.value = []
        self.line = line
        self.column = column
        self.size = 1
        self.height = 1
        self.closed = False


class _Map:
    __slots__ = ("fields", "explicit", "value", "key", "line", "column", "size", "height", "closed")

    def __init__(self, line, column):
        self.fields = {}  # key -> (line, column, value node): the effective members, merges applied
        self.explicit = {}  # key -> line, for keys written in this mapping (duplicate detection)
        self.value = {}
        self.key = None  # the pending key (scalar node, line, column) while its value is composed
        self.line = line
        self.column = column
        self.size = 1
        self.height = 1
        self.closed = False


class _Composer:
    """Turns parser events into nodes and JSON values, enforcing the limits as it goes."""

    def __init__(self, loader, max_depth, max_nodes, max_alias_expansion):
        self.loader = loader
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.max_alias_expansion = max_alias_expansion
        self.nodes = 0  # for the whole stream, so many small documents cannot add up to a bomb
        self.expanded = 0

    def documents(self):
        """Yield the root node of each non-empty document."""
        get_event = self.loader.get_event
        ScalarEvent, AliasEvent = yaml.ScalarEvent, yaml.AliasEvent
        MappingStartEvent, SequenceStartEvent = yaml.MappingStartEvent, yaml.SequenceStartEvent
        MappingEndEvent, SequenceEndEvent = yaml.MappingEndEvent, yaml.SequenceEndEvent
        stack = []
        anchors = {}
        root = None
        empty = False
        max_depth = self.max_depth
        while True:
            event = get_event()
            cls = event.__class__
            if cls is ScalarEvent:
                node = self.scalar(event)
                if event.anchor is not None:
                    anchors[event.anchor] = node
                if stack:
                    self.add(stack[-1], node, node.line, node.column, False)
                else:
                    root = node
                    empty = event.value == "" and event.tag is None and event.implicit[0] and event.anchor is None
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                mark = event.start_mark
                line, column = mark.line + 1, mark.column + 1
                if len(stack) >= max_depth:
                    raise ManifestError(MESSAGE_TOO_DEEP.format(limit=max_depth), line=line, column=column)
                self.count(1, line, column)
                tag = event.tag
                if cls is MappingStartEvent:
                    if tag not in _MAP_TAGS:
                        raise _tag_error(tag, "a mapping", line, column)
                    node = _Map(line, column)
                else:
                    if tag not in _SEQ_TAGS:
                        raise _tag_error(tag, "a sequence", line, column)
                    node = _Seq(line, column)
                if stack:
                    parent = stack[-1]
                    if parent.__class__ is _Map and parent.key is None:
                        raise ManifestError(
                            "invalid map key: a mapping key must be a scalar", line=line, column=column
                        )
                if event.anchor is not None:
                    anchors[event.anchor] = node
                stack.append(node)
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                node = stack.pop()
                node.closed = True
                if stack:
                    self.add(stack[-1], node, node.line, node.column, False)
                else:
                    root = node
                    empty = False
            elif cls is AliasEvent:
                mark = event.start_mark
                line, column = mark.line + 1, mark.column + 1
                target = anchors.get(event.anchor)
                if target is None:
                    raise ManifestError(
                        MESSAGE_UNKNOWN_ANCHOR.format(anchor=event.anchor), line=line, column=column
                    )
                if not target.closed:
                    raise ManifestError(
                        MESSAGE_RECURSIVE_ALIAS.format(anchor=event.anchor), line=line, column=column
                    )
                if len(stack) + target.height > max_depth:
                    raise ManifestError(MESSAGE_TOO_DEEP_ALIAS.format(limit=max_depth), line=line, column=column)
                self.expanded += target.size
                if self.expanded > self.max_alias_expansion:
                    raise ManifestError(
                        MESSAGE_ALIAS_BOMB.format(limit=self.max_alias_expansion), line=line, column=column
                    )
                self.count(target.size, line, column, alias=True)
                if stack:
                    self.add(stack[-1], target, line, column, True)
                else:  # unreachable in practice: a root alias could only name an anchor of its own
                    root, empty = target, False
            elif cls is yaml.DocumentStartEvent:
                anchors = {}
                root = None
            elif cls is yaml.DocumentEndEvent:
                if root is not None and not empty:
                    yield root
            elif cls is yaml.StreamEndEvent:
                return

    def count(self, n, line, column, alias=False):
        self.nodes += n
        if self.nodes > self.max_nodes:
            message = MESSAGE_ALIAS_BOMB if alias else MESSAGE_TOO_MANY_NODES
            raise ManifestError(message.format(limit=self.max_nodes), line=line, column=column)

    def scalar(self, event) -> _Scalar:
        mark = event.start_mark
        line, column = mark.line + 1, mark.column + 1
        self.count(1, line, column)
        tag = event.tag
        value = event.value
        if tag is None:
            if event.implicit[0]:
                return _Scalar(_resolve_plain(value), line, column, value == "<<")
            return _Scalar(value, line, column)
        return _Scalar(*_resolve_tagged(tag, value, line, column), line, column, tag == _MERGE)

    def add(self, parent, node, line, column, alias):
        """Add ``node`` (found at ``line``/``column``) to the open collection ``parent``."""
        parent.size += node.size
        if node.height >= parent.height:
            parent.height = node.height + 1
        if parent.__class__ is _Seq:
            parent.items.append(node)
            parent.marks.append((line, column))
            parent.value.append(self.json_value(node, line, column, copy=alias))
            return
        if parent.key is None:
            if node.__class__ is not _Scalar:
                raise ManifestError("invalid map key: a mapping key must be a scalar", line=line, column=column)
            parent.key = (node, line, column)
            return
        key_node, key_line, key_column = parent.key
        parent.key = None
        if key_node.merge:
            self.merge(parent, node, key_line, key_column)
            return
        key = _key_string(key_node.raw, key_line, key_column)
        first = parent.explicit.get(key)
        if first is not None:
            raise ManifestError(
                MESSAGE_DUPLICATE_KEY.format(key=key, line=first), line=key_line, column=key_column
            )
        parent.explicit[key] = key_line
        parent.fields[key] = (key_line, key_column, node)
        parent.value[key] = self.json_value(node, line, column, copy=alias)

    def merge(self, parent, source, line, column):
        if source.__class__ is _Map:
            sources = [source]
        elif source.__class__ is _Seq and all(item.__class__ is _Map for item in source.items):
            sources = reversed(source.items)  # earlier mappings take precedence
        else:
            raise ManifestError(MESSAGE_WANT_MAP, line=line, column=column)
        for mapping in sources:
            for key, member in mapping.fields.items():
                parent.fields[key] = member
                parent.value[key] = _copy(mapping.value[key])

    @staticmethod
    def json_value(node, line, column, copy=False):
        if node.__class__ is not _Scalar:
            return _copy(node.value) if copy else node.value
        raw = node.raw
        if raw.__class__ is float:
            if raw != raw or raw in (math.inf, -math.inf):
                text = ".nan" if raw != raw else (".inf" if raw > 0 else "-.inf")
                raise ManifestError(
                    f"unsupported value {text}: JSON cannot represent infinity or NaN", line=line, column=column
                )
            # Go's JSON encoder writes integral floats below 1e21 without a fraction or exponent,
            # so the API server decodes them as integers.
            if raw.is_integer() and abs(raw) < 1e21:
                return int(raw)
        return raw


def _copy(value):
    cls = value.__class__
    if cls is dict:
        return {k: _copy(v) for k, v in value.items()}
    if cls is list:
        return [_copy(v) for v in value]
    return value


# -- scalars ----------------------------------------------------------------------------------------

_BOOLS = {s: True for s in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")}
_BOOLS.update({s: False for s in ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")})
_RESOLVE_MAP: dict[str, object] = {**_BOOLS, "~": None, "null": None, "Null": None, "NULL": None}
_RESOLVE_MAP.update({s: math.nan for s in (".nan", ".NaN", ".NAN")})
_RESOLVE_MAP.update({s: math.inf for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")})
_RESOLVE_MAP.update({s: -math.inf for s in ("-.inf", "-.Inf", "-.INF")})
# go-yaml's first-character hints: only these can be anything but a string.
_HINT = {c: "M" for c in "yYnNtTfFoO~"}
_HINT.update({c: "D" for c in "+-0123456789"})
_HINT["."] = "."
_MISSING = object()

# strconv.ParseInt(s, 0, 64) syntax; underscores are removed first, as go-yaml does.
_GO_INT = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|(0[0-7]*)|([1-9][0-9]*))\Z")
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")  # go-yaml's yamlStyleFloat
_DOT_FLOAT = re.compile(r"\.[0-9](?:_?[0-9])*(?:[eE][-+]?[0-9](?:_?[0-9])*)?\Z")
_TIMESTAMP_RE = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?\Z"
)
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


def _resolve_plain(text: str):
    """The value go-yaml v2 gives an untagged plain scalar (timestamps stay strings)."""
    if not text:
        return None
    hint = _HINT.get(text[0])
    if hint is None:
        return text
    value = _RESOLVE_MAP.get(text, _MISSING)
    if value is not _MISSING:
        return value
    if hint == "D":
        plain = text.replace("_", "")
        match = _GO_INT.match(plain)
        if match:
            sign, hexa, octal, binary, legacy_octal, decimal = match.groups()
            if hexa:
                number = int(hexa, 16)
            elif octal:
                number = int(octal, 8)
            elif binary:
                number = int(binary, 2)
            elif legacy_octal:
                number = int(legacy_octal, 8)
            else:
                number = int(decimal)
            if sign == "-":
                number = -number
            if _INT64_MIN <= number <= _INT64_MAX or (not sign and number <= _UINT64_MAX):
                return number
            if _GO_FLOAT.match(plain):
                return _float_or_text(plain, text)  # too big: decimal digits become a float
            return number if not sign else text  # big hex/octal/binary: go-yaml keeps a big.Int
        if _GO_FLOAT.match(plain):
            return _float_or_text(plain, text)
        return text
    if hint == "." and _DOT_FLOAT.match(text):
        return _float_or_text(text.replace("_", ""), text)
    return text


def _float_or_text(number: str, text: str):
    value = float(number)
    return text if value in (math.inf, -math.inf) else value  # ParseFloat fails out of range


_TYPE_TAGS = {type(None): "!!null", bool: "!!bool", int: "!!int", float: "!!float", str: "!!str"}


def _resolve_tagged(tag: str, text: str, line: int, column: int):
    """The value of a scalar with an explicit tag, as ``(raw value,)``; only core tags are allowed."""
    if tag in ("!", _STR):
        return (text,)
    if tag in (_INT, _FLOAT, _BOOL, _NULL):
        value = _resolve_plain(text)
        got = _TYPE_TAGS[type(value)]
        want = _short_tag(tag)
        if got == want:
            return (value,)
        if want == "!!float" and got == "!!int":
            return (float(value),)
        raise ManifestError(f"cannot decode {got} `{text}` as a {want}", line=line, column=column)
    if tag == _BINARY:
        data = re.sub(r"[\r\n]", "", text)
        try:
            base64.b64decode(data, validate=True)
        except binascii.Error:
            raise ManifestError("!!binary value contains invalid base64 data", line=line, column=column) from None
        return (data,)
    if tag == _TIMESTAMP:
        if _TIMESTAMP_RE.match(text):
            return (text,)
        raise ManifestError(f"cannot decode !!str `{text}` as a !!timestamp", line=line, column=column)
    if tag == _MERGE and text == "<<":
        return (text,)
    raise _tag_error(tag, "a scalar", line, column)


def _tag_error(tag: str, what: str, line: int, column: int) -> ManifestError:
    return ManifestError(
        f"YAML tag {_short_tag(tag)} on {what} is not allowed; manifests may only use the YAML core "
        "types (string, integer, float, boolean, null, mapping, sequence)",
        line=line,
        column=column,
    )


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def _key_string(raw, line: int, column: int) -> str:
    """A mapping key as sigs.k8s.io/yaml converts it for JSON."""
    cls = raw.__class__
    if cls is str:
        return raw
    if cls is bool:
        return "true" if raw else "false"
    if cls is int:
        return str(raw)
    if cls is float:
        return _go_float32_string(raw)
    raise ManifestError(
        "unsupported map key: a null key cannot be converted to a JSON object key", line=line, column=column
    )


def _go_float32_string(value: float) -> str:
    """Go's ``strconv.FormatFloat(value, 'g', -1, 32)`` with YAML's names for the special values."""
    if value != value:
        return ".nan"
    try:
        single = struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        single = math.copysign(math.inf, value)
    if math.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    if single == 0:
        return "-0" if math.copysign(1, single) < 0 else "0"
    for digits in range(1, 10):  # the shortest decimal that reads back as the same float32
        text = f"{single:.{digits - 1}e}"
        if struct.unpack("<f", struct.pack("<f", float(text)))[0] == single:
            break
    exponent = int(text.partition("e")[2])
    if exponent < -4 or exponent >= 6:  # Go's %g switches to %e at 21 digits but 6 for shortest
        return text
    return f"{float(text):.{max(digits - 1 - exponent, 0)}f}"


# -- field paths ------------------------------------------------------------------------------------


class _Key(str):
    """A path segment that is a literal key (from brackets or a list path), never joined with dots."""


def _parse_field_path(path: str) -> list:
    """Split ``spec.containers[0].image`` into ``["spec", "containers", _Key("0"), "image"]``."""
    segments: list = []
    i, n = 0, len(path)
    while i < n:
        char = path[i]
        if char == ".":
            i += 1
        elif char == "[":
            end = path.find("]", i + 1)
            if end < 0:
                end = n
            segments.append(_Key(path[i + 1 : end]))
            i = end + 1
        else:
            end = i
            while end < n and path[end] not in ".[":
                end += 1
            segments.append(path[i:end])
            i = end
    return segments


def _as_index(segment) -> int | None:
    if isinstance(segment, bool):
        return None
    if isinstance(segment, int):
        return segment if segment >= 0 else None
    if isinstance(segment, str) and segment.isdigit() and segment.isascii():
        return int(segment)
    return None
