"""The cluster store: kubeviz's etcd.

A ``Cluster`` is one simulated Kubernetes cluster with its own simulated clock, seed and resourceVersion counter.
Every API object of a cluster is one ``StoredObject`` row holding the object's JSON exactly as the API serves it;
the few columns beside it (kind, namespace, name, uid, resourceVersion) exist to find rows, not to be read instead
of the JSON.
"""

import uuid

from django.db import models


class Cluster(models.Model):
    name = models.CharField(max_length=63, unique=True)
    uid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    seed = models.BigIntegerField(default=0)
    # The simulated "now". Only the clock (the engine) moves it.
    sim_now = models.DateTimeField()
    paused = models.BooleanField(default=True)
    speed = models.FloatField(default=1.0)
    # An advance that outlasted its request goes on in the background: from when, to when; null when none does.
    advance_from = models.DateTimeField(null=True, blank=True)
    advance_target = models.DateTimeField(null=True, blank=True)
    # The last resourceVersion handed out; every write takes the next one (monotonic, survives restarts).
    resource_version = models.BigIntegerField(default=0)
    # The resourceVersion the change history was last compacted at: reads and watches from before it get 410 Gone.
    compacted_version = models.BigIntegerField(default=0)
    # The simulated time of the change at ``compacted_version``: how far back the kept history goes (null: never
    # compacted, the history starts at the cluster's first change).
    compacted_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class StoredObject(models.Model):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="stored_objects")
    # "Job", "Pod", ... together with the API group this names the resource.
    api_group = models.CharField(max_length=63, blank=True)
    kind = models.CharField(max_length=63)
    namespace = models.CharField(max_length=63, blank=True)
    name = models.CharField(max_length=253)
    uid = models.CharField(max_length=36)
    resource_version = models.BigIntegerField()
    # Space-separated uids of the owners named in metadata.ownerReferences, to find dependents without
    # reading every object's JSON.
    owner_uids = models.TextField(blank=True, default="")
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "api_group", "kind", "namespace", "name"], name="store_object_unique_key"
            ),
        ]
        indexes = [
            models.Index(fields=["cluster", "kind", "namespace", "name"], name="store_object_kind_ns"),
            models.Index(fields=["cluster", "uid"], name="store_object_uid"),
        ]

    def __str__(self):
        return f"{self.kind} {self.namespace}/{self.name}"


class Change(models.Model):
    """One committed write, kept for a while like etcd's revision history.

    Watches and the engine read what happened after a resourceVersion from here, in order, deletions
    included; lists in chunks read objects as they were at one. Compaction at a resourceVersion forgets what
    etcd's forgets: every version at or before it that a later one at or before it replaces, and the deletions;
    a watch or list from before it gets 410 Gone (``Cluster.compacted_version``).
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="changes")
    resource_version = models.BigIntegerField()
    type = models.CharField(max_length=8)  # ADDED, MODIFIED, DELETED
    api_group = models.CharField(max_length=63, blank=True)
    kind = models.CharField(max_length=63)
    # The object's key, to find its versions without reading the JSON.
    namespace = models.CharField(max_length=63, blank=True, default="")
    name = models.CharField(max_length=253, default="")
    data = models.JSONField()
    # The simulated instant of the write (null for changes kept from before it was recorded).
    sim_time = models.DateTimeField(null=True, blank=True)
    # Who made it (``kubeviz.store.actor``): a controller's reconcile and its trace, a user through a door, or the
    # simulator itself.
    actor = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "resource_version"], name="store_change_unique_rv"),
        ]
        indexes = [
            models.Index(fields=["cluster", "api_group", "kind", "namespace", "name", "resource_version"],
                         name="store_change_key"),
        ]

    def __str__(self):
        return f"{self.resource_version} {self.type} {self.kind}"


class TraceRecord(models.Model):
    """A controller's reconcile trace (``controllers.engine.TraceRecord``), kept with the history: what the
    controller saw and decided at ``sim_time``; the changes it made name its ``sequence``. Compacted with the
    changes: traces from before the oldest kept revision's time go with them."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="traces")
    sequence = models.BigIntegerField()
    sim_time = models.DateTimeField()
    controller = models.CharField(max_length=63)
    object_key = models.CharField(max_length=600)
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "sequence"], name="store_trace_unique_sequence"),
        ]
        indexes = [models.Index(fields=["cluster", "sim_time"], name="store_trace_time")]

    def __str__(self):
        return f"{self.sequence} {self.controller} {self.object_key}"


class ContainerLog(models.Model):
    """What one run of one container printed (the simulated kubelet's log files): ``lines`` is a list of
    ``[RFC 3339 timestamp, text]`` pairs; ``restart_count`` tells the runs apart (``--previous``)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="logs")
    namespace = models.CharField(max_length=63)
    pod = models.CharField(max_length=253)
    pod_uid = models.CharField(max_length=36)
    container = models.CharField(max_length=63)
    restart_count = models.IntegerField(default=0)
    lines = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "pod_uid", "container", "restart_count"], name="store_log_unique_run"
            ),
        ]
        indexes = [models.Index(fields=["cluster", "namespace", "pod"], name="store_log_pod")]

    def __str__(self):
        return f"{self.namespace}/{self.pod}/{self.container}#{self.restart_count}"


class Checkpoint(models.Model):
    """A controller's private state for one key, kept across server restarts (like a kubelet's checkpoint
    files): what a running container is playing and when it started, its crash-loop back-off."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="checkpoints")
    controller = models.CharField(max_length=63)
    key = models.CharField(max_length=600)
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "controller", "key"], name="store_checkpoint_unique_key"),
        ]

    def __str__(self):
        return f"{self.controller} {self.key}"
