from django.apps import AppConfig


class ClassroomConfig(AppConfig):
    name = "kubeviz.classroom"
    label = "classroom"
    verbose_name = "Classroom"
    default_auto_field = "django.db.models.BigAutoField"
