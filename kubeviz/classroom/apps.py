from django.apps import AppConfig


class ClassroomConfig(AppConfig):
    name = "kubeviz.classroom"
    label = "classroom"
    verbose_name = "Classroom"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from kubeviz.lessons.signals import progress_changed

        from .grid import progress_changed as publish_progress

        progress_changed.connect(publish_progress, dispatch_uid="kubeviz.classroom.grid")
