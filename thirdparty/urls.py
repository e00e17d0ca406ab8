"""The register of acts by third parties on a client organisation's host, under /register/."""

from django.urls import path

from thirdparty import views

app_name = "thirdparty"

urlpatterns = [
    path("", views.register, name="register"),
    path("add/", views.declaration_add, name="add"),
    path("export.csv", views.register_export, name="export"),
    path("summary.csv", views.register_summary, name="summary"),
]
