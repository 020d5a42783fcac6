"""The classroom's pages: joining (``/join/``), a learner's class (``/class/``), teachers (``/accounts/``,
``/teach/``)."""

from django.urls import path

from . import views

app_name = "classroom"

urlpatterns = [
    path("join/", views.join, name="join"),
    path("join/<str:code>/", views.join, name="join-code"),
    path("class/", views.learner_home, name="learner"),
    path("class/leave", views.leave, name="leave"),
    path("accounts/login/", views.classroom_only(views.LoginView.as_view()), name="login"),
    path("accounts/logout/", views.classroom_only(views.LogoutView.as_view()), name="logout"),
    path("teach/", views.teacher_home, name="teacher"),
    path("teach/<int:pk>/", views.class_detail, name="class"),
    path("teach/<int:pk>/qr.svg", views.class_qr, name="class-qr"),
    path("teach/<int:pk>/live/", views.class_live, name="class-live"),
    path("teach/<int:pk>/clock", views.class_clock, name="class-clock"),
    path("teach/<int:pk>/view/<str:cluster>/", views.sandbox_view, name="sandbox-view"),
    path("teach/<int:pk>/present/<str:cluster>/", views.sandbox_present, name="sandbox-present"),
    path("teach/<int:pk>/reset", views.class_reset, name="class-reset"),
    path("teach/<int:pk>/delete", views.class_delete, name="class-delete"),
    path("teach/<int:pk>/learners/<int:learner>/reset", views.learner_reset, name="learner-reset"),
    path("teach/<int:pk>/learners/<int:learner>/remove", views.learner_remove, name="learner-remove"),
    path("teach/<int:pk>/learners/<int:learner>/merge", views.learner_merge, name="learner-merge"),
]
