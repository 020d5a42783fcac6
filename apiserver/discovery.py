"""Version and (legacy) discovery documents, built from the resource table.

kubectl's dispatcher re-executes a kubectl matching the server's minor version, so ``/version`` must say 1.32
(kubectl-compat.md §0).
"""

from .kinds import RESOURCE_TYPES, group_versions

KUBERNETES_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0",
    "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
    "gitTreeState": "clean",
    "buildDate": "2024-12-11T17:59:15Z",
    "goVersion": "go1.23.3",
    "compiler": "gc",
    "platform": "linux/amd64",
}

SUBRESOURCE_VERBS = {"status": ["get", "patch", "update"], "log": ["get"]}


def version_info() -> dict:
    return dict(KUBERNETES_VERSION)


def api_versions() -> dict:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    }


def _group_entry(group: str) -> dict:
    versions = [{"groupVersion": f"{g}/{v}", "version": v} for g, v in group_versions() if g == group]
    return {"name": group, "versions": versions, "preferredVersion": versions[0]}


def api_group_list() -> dict:
    groups = []
    for group, _ in group_versions():
        if group and all(g["name"] != group for g in groups):
            groups.append(_group_entry(group))
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict | None:
    if not any(g == group for g, _ in group_versions() if g):
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group)}


def api_resource_list(group: str, version: str) -> dict | None:
    served = [r for r in RESOURCE_TYPES if r.group == group and r.version == version]
    if not served:
        return None
    resources = []
    for r in served:
        entry = {
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(r.verbs),
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        resources.append(entry)
        for sub in r.subresources:
            resources.append(
                {
                    "name": f"{r.plural}/{sub}",
                    "singularName": "",
                    "namespaced": r.namespaced,
                    "kind": r.kind if sub == "status" else "Pod",
                    "verbs": SUBRESOURCE_VERBS[sub],
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }
