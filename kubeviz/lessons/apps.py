from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "kubeviz.lessons"
    label = "lessons"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from kubeviz.sim.signals import api_write_answered, manifests_applied

        from .services import record_api_write, record_applies

        manifests_applied.connect(record_applies, dispatch_uid="kubeviz.lessons.record_applies")
        api_write_answered.connect(record_api_write, dispatch_uid="kubeviz.lessons.record_api_write")
