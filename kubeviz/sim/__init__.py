"""The simulator's own endpoints under ``/sim`` (clusters, clock, apply, nodes, traces, kubeconfig): kubeviz's
contract with the dashboard, lessons and tests (DESIGN.md "Contracts"), beside the Kubernetes API."""
