"""The seed article's manifests, shared by the tests that apply them (line numbers in assertions count
from these exact texts)."""

import textwrap

PI = textwrap.dedent(
    """\
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: pi
    spec:
      backoffLimit: 4
      template:
        spec:
          containers:
          - name: pi
            image: perl:5.34.0
            command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]
          restartPolicy: Never
    """
)

HELLO = textwrap.dedent(
    """\
    apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: hello
    spec:
      schedule: "*/1 * * * *"
      jobTemplate:
        spec:
          template:
            spec:
              containers:
              - name: hello
                image: busybox:1.28
                command: ["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"]
              restartPolicy: OnFailure
    """
)

FLUENTD = textwrap.dedent(
    """\
    apiVersion: apps/v1
    kind: DaemonSet
    metadata:
      name: fluentd-elasticsearch
      namespace: kube-system
      labels:
        k8s-app: fluentd-logging
    spec:
      selector:
        matchLabels:
          name: fluentd-elasticsearch
      template:
        metadata:
          labels:
            name: fluentd-elasticsearch
        spec:
          tolerations:
          - key: node-role.kubernetes.io/control-plane
            operator: Exists
            effect: NoSchedule
          containers:
          - name: fluentd-elasticsearch
            image: quay.io/fluentd_elasticsearch/fluentd:v2.5.2
            resources:
              limits:
                memory: 200Mi
              requests:
                cpu: 100m
                memory: 200Mi
    """
)


def agent_daemonset(max_unavailable: str) -> str:
    """A bare DaemonSet ``agent`` (image ``fluentd:v1``, rolling updates at ``max_unavailable``): the workload
    of the large-cluster tests and of the DaemonSet benchmark."""
    return textwrap.dedent(
        f"""\
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: agent
        spec:
          updateStrategy:
            type: RollingUpdate
            rollingUpdate:
              maxUnavailable: {max_unavailable}
          selector:
            matchLabels: {{name: agent}}
          template:
            metadata:
              labels: {{name: agent}}
            spec:
              containers:
              - name: agent
                image: fluentd:v1
        """
    )


def slow_cronjob(policy: str, sleep: int = 150) -> str:
    """The hello CronJob with runs that last longer than the minute between them, under ``policy``."""
    return HELLO.replace('"date; echo Hello from the Kubernetes cluster"', f'"sleep {sleep}"').replace(
        "  jobTemplate:", f"  concurrencyPolicy: {policy}\n  jobTemplate:")


def failing_pi(backoff_limit: int) -> str:
    """The pi Job with a container that exits 1 at once, retried ``backoff_limit`` times."""
    return PI.replace('["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]', '["sh", "-c", "exit 1"]').replace(
        "backoffLimit: 4", f"backoffLimit: {backoff_limit}")

