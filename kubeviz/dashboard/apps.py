from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "kubeviz.dashboard"
    verbose_name = "Live dashboard"
