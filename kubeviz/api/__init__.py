"""The HTTP face of each simulated cluster's Kubernetes API under ``/clusters/<name>``: views, watch streams, pod
log streams and the request-body limit, over the Django-free ``apiserver`` package."""
