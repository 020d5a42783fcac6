"""Node addresses in clusters of every size: kind's for the first 256 nodes, unique and valid past them."""

import ipaddress
from datetime import datetime, timezone

from kubeviz.runtime.memory import memory_cluster
from kubeviz.store.services import node_internal_address, node_pod_cidr


def test_the_first_nodes_get_kinds_addresses():
    assert node_pod_cidr(0) == "10.244.0.0/24" and node_pod_cidr(255) == "10.244.255.0/24"
    assert node_internal_address(0) == "172.18.0.2" and node_internal_address(3) == "172.18.0.5"


def test_a_large_cluster_has_one_valid_pod_network_and_address_per_node():
    cluster = memory_cluster(nodes=600, start=datetime(2025, 1, 1, tzinfo=timezone.utc))
    nodes = cluster.objects("Node")
    assert len(nodes) == 601
    cidrs = [ipaddress.ip_network(n["spec"]["podCIDR"]) for n in nodes]
    addresses = [ipaddress.ip_address(n["status"]["addresses"][0]["address"]) for n in nodes]
    assert len(set(cidrs)) == 601 and len(set(addresses)) == 601
    assert all(c.prefixlen == 24 and c.subnet_of(ipaddress.ip_network("10.0.0.0/8")) for c in cidrs)
    assert all(a in ipaddress.ip_network("172.18.0.0/16") for a in addresses)
    by_name = {n["metadata"]["name"]: n for n in nodes}
    assert by_name["control-plane"]["spec"]["podCIDR"] == "10.244.0.0/24"
    assert by_name["node-600"]["spec"]["podCIDR"] == "10.2.88.0/24"
