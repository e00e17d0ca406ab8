from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("checkout/", views.checkout, name="checkout"),
    path("portal/", views.portal, name="portal"),
    path("webhook/", views.webhook, name="webhook"),
    path("invoicing/", views.invoicing_overview, name="invoicing"),
    path("invoicing/export.csv", views.invoicing_csv, name="invoicing_csv"),
    path("invoicing/export.xlsx", views.invoicing_xlsx, name="invoicing_xlsx"),
    path("invoicing/<int:client_id>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("contracts/<int:client_id>/", views.contract_edit, name="contract_edit"),
]
