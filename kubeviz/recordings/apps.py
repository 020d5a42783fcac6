from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    name = "kubeviz.recordings"
    default_auto_field = "django.db.models.BigAutoField"
