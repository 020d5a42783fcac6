from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "kubeviz.live"
    label = "live"
    verbose_name = "Live cluster stream"
