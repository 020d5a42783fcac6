"""Lists in chunks: ``limit`` and ``continue``, as kube-apiserver 1.32 serves them.

A client that sends ``limit=N`` gets at most N items, in key order, and, when more remain, ``metadata.continue``:
an opaque token with which it asks for the next chunk. Every chunk of one list is read at the first chunk's
resourceVersion, so the whole list is the cluster as it was then, however it changed between the requests
(``k8s.io/apiserver/pkg/storage/etcd3/store.go`` ``GetList``). When the history no longer reaches back that far,
the next chunk is a 410 ``Expired`` whose Status carries a token that goes on from the same key at the newest
revision instead (``etcd3/errors.go``).

The token is upstream's (``k8s.io/apiserver/pkg/storage/continue.go``): Go's ``base64.RawURLEncoding`` of
``{"v":"meta.k8s.io/v1","rv":<resourceVersion>,"start":"<key after the last item>\\u0000"}``, where the key is
relative to the listed prefix. Keys are etcd's without the ``/registry/<resource>`` root: ``/<namespace>/<name>``
for namespaced kinds, ``/<name>`` for the others, compared as strings. The first chunk comes from the watch cache
upstream (``cacher.GetList``), whose prefix lacks the trailing slash, so its token's key starts with ``/``; later
chunks come from etcd, whose do not. Both decode to the same key.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Callable, Iterable

from .goencoding import GoError, marshal_string, raw_url_b64decode, raw_url_b64encode, unmarshal_struct
from .storage import object_key

TOKEN_VERSION = "meta.k8s.io/v1"

# continue.go's errors, wrapped by the store as "invalid continue token: <error>" in a 400.
ERR_GENERIC_INVALID_KEY = "continue key is not valid"
ERR_INVALID_START_RV = "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
ERR_EMPTY_START_KEY = "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)"
ERR_UNRECOGNIZED_VERSION = "continue key is not valid: server does not recognize this encoded version"

# etcd3/errors.go
EXPIRED = "The resourceVersion for the provided list is too old."
INCONSISTENT_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new list "
    "without the continue parameter, or use the continue token in this response to retrieve the remainder of the "
    "results. Continuing with the provided token results in an inconsistent list - objects that were created, "
    "modified, or deleted between the time the first chunk was returned and now may show up in the list."
)
# etcd3/store.go resolveGetListRev
RESOURCE_VERSION_WITH_CONTINUE = "specifying resource version is not allowed when using continue"
# metav1.ResourceVersionMatch
EXACT, NOT_OLDER_THAN = "Exact", "NotOlderThan"
# A token's resourceVersion that means "the newest": what the 410 hands out (0 would be a bad token).
LATEST = -1


class InvalidContinue(ValueError):
    """A token ``decode_continue`` refuses; ``str()`` is upstream's error text."""


def storage_prefix(namespace: str | None) -> str:
    """The prefix etcd lists below (``GetList`` adds the trailing slash for a recursive list)."""
    return f"/{namespace}/" if namespace else "/"


def cache_prefix(namespace: str | None) -> str:
    """The key the watch cache is asked to list, which its first-chunk tokens are relative to."""
    return f"/{namespace}" if namespace else ""


def encode_continue(key: str, key_prefix: str, resource_version: int) -> str:
    """``EncodeContinue``: ``key`` relative to ``key_prefix``, in upstream's JSON field order and escaping."""
    if not key.startswith(key_prefix) or key == key_prefix:
        raise ValueError("unable to encode next field: the key and key prefix do not match")
    payload = (f'{{"v":{marshal_string(TOKEN_VERSION)},"rv":{resource_version},'
               f'"start":{marshal_string(key[len(key_prefix):])}}}')
    return raw_url_b64encode(payload.encode("utf-8"))


def _clean(path: str) -> str:
    """Go's ``path.Clean`` of a rooted path."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def decode_continue(token: str, key_prefix: str) -> tuple[str, int]:
    """``DecodeContinue``: the key to go on from and the resourceVersion to read at (``LATEST`` or any negative:
    the newest). Raises ``InvalidContinue`` with upstream's text, Go's decoding errors included."""
    try:
        data = raw_url_b64decode(token.encode("utf-8"))
        fields = unmarshal_struct(data, "storage.continueToken", {"v": str, "rv": int, "start": str})
    except GoError as exc:
        raise InvalidContinue(f"{ERR_GENERIC_INVALID_KEY}: {exc}") from None
    version = fields.get("v", "")
    if version != TOKEN_VERSION:
        raise InvalidContinue(f"{ERR_UNRECOGNIZED_VERSION} {version}")
    resource_version, start = fields.get("rv", 0), fields.get("start", "")
    if resource_version == 0:
        raise InvalidContinue(ERR_INVALID_START_RV)
    if not start:
        raise InvalidContinue(ERR_EMPTY_START_KEY)
    # Against path traversal: the key may not climb above the listed prefix.
    key = start if start.startswith("/") else "/" + start
    if _clean(key) != key:
        raise InvalidContinue(f"{ERR_GENERIC_INVALID_KEY}: {start}")
    return key_prefix + key[1:], resource_version


@dataclass
class Chunk:
    """One answer to a list: its items, the resourceVersion it is consistent with, and what ``ListMeta`` says
    of the rest."""

    items: list[dict]
    resource_version: str
    continue_: str = ""
    remaining_item_count: int | None = None

    @property
    def list_meta(self) -> dict:
        """``metadata`` of the List (or Table): ListMeta's fields in Go's order, empty ones left out."""
        meta: dict = {"resourceVersion": self.resource_version}
        if self.continue_:
            meta["continue"] = self.continue_
        if self.remaining_item_count is not None:
            meta["remainingItemCount"] = self.remaining_item_count
        return meta


def take(objects: Iterable[dict], count: int, *, limit: int, matches: Callable[[dict], bool] | None,
         key_prefix: str, resource_version: int) -> Chunk:
    """The loop of ``GetList`` over ``objects`` (every object from the start key on, in key order; ``count`` of
    them): keep those ``matches`` allows until ``limit`` are kept (``limit`` 0: all). When another object
    follows, the chunk's token goes on after the last one kept; ``remainingItemCount`` is told only when nothing
    was filtered out (``matches`` None), as upstream cannot count what a selector would keep."""
    items: list[dict] = []
    last_key = ""
    more = False
    for obj in objects:
        if limit and len(items) >= limit:
            more = True
            break
        meta = obj["metadata"]
        last_key = object_key(meta.get("namespace", ""), meta["name"])
        if matches is None or matches(obj):
            items.append(obj)
    if not more:
        return Chunk(items, str(resource_version))
    return Chunk(items, str(resource_version), encode_continue(last_key + "\x00", key_prefix, resource_version),
                 count - limit if matches is None else None)
