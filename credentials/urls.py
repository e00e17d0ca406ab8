"""The credentials register on the console (base host)."""

from django.urls import path

from credentials import views

app_name = "credentials"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("certificate/", views.certificate_set, name="certificate"),
    path("training/", views.training_add, name="training"),
    path("policy/", views.policy_set, name="policy"),
    path("clients/<int:client_id>/appointments/", views.appointment_add, name="appointment_add"),
    path(
        "appointments/<int:appointment_id>/declarations/",
        views.appointment_declarations,
        name="appointment_declarations",
    ),
    path("appointments/<int:appointment_id>/end/", views.appointment_end, name="appointment_end"),
]
