"""A cluster's input log: how it began and everything from outside that moved it since.

A simulated cluster is a function of its seed, its first state and its inputs: the writes that came from outside
the engine (a learner's apply, kubectl, the official client, a lesson, a node joining) and the moves of its clock.
``Origin`` keeps how it began, ``Input`` each input in order, with the engine's position when it came (the
simulated instant and how many syncs had run at that instant), so a replay from the seed puts every write between
the same two syncs and rebuilds the same cluster, object for object. Exports, imports and forks read these rows
(``kubeviz.recordings.services``).
"""

from django.db import models

from kubeviz.store.models import Cluster


class Origin(models.Model):
    """How a cluster began (a recording's ``cluster`` header): only clusters with an origin record inputs."""

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="origin")
    seed = models.BigIntegerField()
    start = models.DateTimeField()
    nodes = models.IntegerField()
    control_plane = models.BooleanField(default=True)
    # The ResourceQuota ``sandbox``'s spec.hard the cluster was made with (null: none).
    quota = models.JSONField(null=True, blank=True)
    # A fork: the cluster it was forked from (kept by name when that one is deleted) and the instant.
    source = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="forks")
    source_name = models.CharField(max_length=63, blank=True, default="")
    forked_at = models.DateTimeField(null=True, blank=True)
    # A fork of a learner's sandbox is that learner's (classroom mode, ``kubeviz.classroom.access``).
    learner = models.ForeignKey("classroom.Learner", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="forks")

    def __str__(self):
        return f"origin of {self.cluster}"


class Input(models.Model):
    """One input of a cluster, in order (``seq``). ``time``, ``syncs`` and ``started`` are the engine's position
    (``controllers.engine.Engine.position``): for a write, where the engine was when it landed; for a clock move,
    where the engine got to (consecutive slices of a run update one row). ``resource_version`` is the cluster's
    after the input: a replay that gets another one has diverged."""

    class Type(models.TextChoices):
        WRITE = "write", "Write"
        NODE = "node", "Node joins"
        CLOCK = "clock", "Clock move"
        RESTART = "restart", "Engine restart"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="inputs")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=8, choices=Type.choices)
    time = models.DateTimeField()
    syncs = models.IntegerField(default=0)
    started = models.BooleanField(default=False)
    resource_version = models.BigIntegerField()
    # A write's door (editor, upload, kubectl, client, console, lesson, api) and who made it, when known.
    door = models.CharField(max_length=16, blank=True, default="")
    who = models.CharField(max_length=150, blank=True, default="")
    # The actor its changes were recorded with (``kubeviz.store.actor``), which a replay writes as.
    actor = models.JSONField(null=True, blank=True)
    # A write: the request as the registry received it (``kubeviz.recordings.registry``); a node: how it joined.
    request = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["cluster", "seq"]
        constraints = [models.UniqueConstraint(fields=["cluster", "seq"], name="recordings_input_unique_seq")]

    def __str__(self):
        return f"{self.cluster} #{self.seq} {self.type}"
