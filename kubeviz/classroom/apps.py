from django.apps import AppConfig


class ClassroomConfig(AppConfig):
    name = "kubeviz.classroom"
    label = "classroom"
    verbose_name = "Classroom"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from kubeviz.lessons.signals import progress_changed
        from kubeviz.sim.signals import clock_paused_changed

        from .grid import clock_paused_changed as publish_paused
        from .grid import progress_changed as publish_progress

        progress_changed.connect(publish_progress, dispatch_uid="kubeviz.classroom.grid")
        clock_paused_changed.connect(publish_paused, dispatch_uid="kubeviz.classroom.grid.paused")
