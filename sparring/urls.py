"""Sparring on a client organisation's host (included under /sparring/)."""

from django.urls import path

from sparring import views

app_name = "sparring"

urlpatterns = [
    path("", views.thread_list, name="thread_list"),
    path("new/", views.thread_new, name="thread_new"),
    path("<uuid:thread_id>/", views.thread_detail, name="thread_detail"),
    path("<uuid:thread_id>/answer/", views.message_add, name="message_add"),
    path("<uuid:thread_id>/close/", views.thread_close, name="thread_close"),
    path("<uuid:thread_id>/reopen/", views.thread_reopen, name="thread_reopen"),
    path("<uuid:thread_id>/count/", views.thread_count, name="thread_count"),
    path(
        "attachments/<uuid:attachment_id>/", views.attachment_download, name="attachment_download"
    ),
]
