"""``manage.py sandboxes sweep``: pause idle sandboxes and delete long-idle ones once (``lifecycle.py``)."""

from django.core.management.base import BaseCommand

from kubeviz.classroom.lifecycle import sandboxes_sweep


class Command(BaseCommand):
    help = ("sweep: pause the sandboxes idle for KUBEVIZ_IDLE_PAUSE_SECONDS and delete those idle for "
            "KUBEVIZ_IDLE_DELETE_SECONDS (the server does this every minute in classroom mode).")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["sweep"])

    def handle(self, *args, action, **options):
        result = sandboxes_sweep()
        self.stdout.write(f"paused {len(result.paused)}, deleted {len(result.deleted)}")
        for name in result.paused:
            self.stdout.write(f"paused {name}")
        for name in result.deleted:
            self.stdout.write(f"deleted {name}")
