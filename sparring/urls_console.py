"""Sparring on the console (base host; included under /sparring/)."""

from django.urls import path

from sparring import views_console

app_name = "sparring_console"

urlpatterns = [
    path("", views_console.overview, name="overview"),
    path("preferences/", views_console.preferences, name="preferences"),
    path("open/<uuid:email_id>/", views_console.notification_open, name="open"),
]
