"""The board's pages on a client organisation's host, under /board/."""

from django.urls import path

from boardroom import views

app_name = "boardroom"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("data.json", views.dashboard_data, name="dashboard_data"),
    path("download/", views.dashboard_download, name="dashboard_download"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:year>/", views.report_detail, name="report"),
    path("reports/<int:year>/pdf/", views.report_pdf, name="report_pdf"),
    path("reports/<int:year>/edit/", views.report_edit, name="report_edit"),
    path("reports/<int:year>/submit/", views.report_submit, name="report_submit"),
    path("reports/<int:year>/return/", views.report_return, name="report_return"),
    path("reports/<int:year>/publish/", views.report_publish, name="report_publish"),
    path("signals/", views.signal_list, name="signals"),
    path("signals/<int:signal_id>/", views.signal_detail, name="signal"),
    path("signals/<int:signal_id>/edit/", views.signal_edit, name="signal_edit"),
    path("signals/<int:signal_id>/delete/", views.signal_delete, name="signal_delete"),
    path("signals/<int:signal_id>/send/", views.signal_send, name="signal_send"),
    path(
        "signals/<int:signal_id>/acknowledge/", views.signal_acknowledge, name="signal_acknowledge"
    ),
    path("signals/<int:signal_id>/follow-up/", views.signal_follow_up, name="signal_follow_up"),
    path("activities/", views.activities, name="activities"),
]
