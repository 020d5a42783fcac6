"""The lesson player's pages and the lesson panel's JSON API."""

from django.urls import path

from . import views

app_name = "lessons"

urlpatterns = [
    path("", views.lesson_list, name="list"),
    path("<slug:slug>/", views.lesson_page, name="lesson"),
    path("<slug:slug>/start", views.lesson_start, name="start"),
    path("<slug:slug>/api/step", views.api_step, name="api-step"),
    path("<slug:slug>/api/check", views.api_check, name="api-check"),
    path("<slug:slug>/api/show-me", views.api_show_me, name="api-show-me"),
    path("<slug:slug>/api/actions", views.api_actions, name="api-actions"),
    path("<slug:slug>/api/hint", views.api_hint, name="api-hint"),
    path("<slug:slug>/api/predict", views.api_predict, name="api-predict"),
    path("<slug:slug>/api/progress", views.api_progress, name="api-progress"),
]
