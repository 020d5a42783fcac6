"""``manage.py bootstrap``: make sure the ``default`` cluster exists (``make run`` calls it after migrating)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from kubeviz.store.services import cluster_ensure_default


class Command(BaseCommand):
    help = "Create the default cluster (a control-plane node and KUBEVIZ_DEFAULT_NODES workers) if it is missing."

    def handle(self, *args, **options):
        cluster = cluster_ensure_default(nodes=settings.KUBEVIZ_DEFAULT_NODES)
        self.stdout.write(f"cluster {cluster.name!r} ready")
