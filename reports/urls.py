"""Reports in the firm console (base host)."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("console/portfolio/", views.portfolio, name="portfolio"),
    path("console/portfolio/download/", views.portfolio_download, name="portfolio_download"),
    path("console/my-clients/", views.adviser_clients, name="adviser_clients"),
    path("console/annual-reports/", views.batches, name="batches"),
    path("console/annual-reports/batches/<int:batch_id>/", views.batch_status, name="batch_status"),
]
