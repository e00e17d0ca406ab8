from django.urls import path

from cases import views_console

urlpatterns = [
    path("console/cases/new/", views_console.case_register, name="case_register"),
]
