from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "kubeviz.lessons"
    label = "lessons"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from kubeviz.sim.signals import manifests_applied

        from .services import record_applies

        manifests_applied.connect(record_applies, dispatch_uid="kubeviz.lessons.record_applies")
