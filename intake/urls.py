"""The intake on a client organisation's host (included under /intake/)."""

from django.urls import path, re_path

from intake import views, views_work

app_name = "intake"

urlpatterns = [
    path("", views.intake_root, name="root"),
    path("photo/<int:user_id>/", views.photo, name="photo"),
    # The firm's side.
    path("work/", views_work.work_list, name="work"),
    path("work/card/", views_work.card_edit, name="card"),
    path("work/poster/", views_work.poster, name="poster"),
    path("work/<uuid:contact_id>/", views_work.work_detail, name="work_detail"),
    path("work/<uuid:contact_id>/answer/", views_work.work_answer, name="work_answer"),
    path("work/<uuid:contact_id>/close/", views_work.work_close, name="work_close"),
    path("work/<uuid:contact_id>/link/", views_work.work_link, name="work_link"),
    path("work/<uuid:contact_id>/case/", views_work.work_open_case, name="work_open_case"),
    path("work/<uuid:contact_id>/record/", views_work.work_record, name="work_record"),
    path(
        "work/<uuid:contact_id>/record/<uuid:record_id>/",
        views_work.work_record_revise,
        name="work_record_revise",
    ),
    path(
        "work/<uuid:contact_id>/file/<uuid:upload_id>/",
        views_work.work_file,
        name="work_file",
    ),
    # The reporter's pages, in their language.
    path("<str:lang>/", views.page, name="page"),
    path("<str:lang>/send/", views.submit, name="submit"),
    path("<str:lang>/journal-only/", views.journal_start, name="journal_start"),
    path("<str:lang>/saved/", views.saved, name="saved"),
    path("<str:lang>/mailbox/", views.mailbox, name="mailbox"),
    path("<str:lang>/mailbox/write/", views.mailbox_write, name="mailbox_write"),
    path("<str:lang>/mailbox/notice/", views.mailbox_notice, name="mailbox_notice"),
    path("<str:lang>/mailbox/close/", views.mailbox_close, name="mailbox_close"),
    path(
        "<str:lang>/mailbox/record/<uuid:record_id>/",
        views.record_respond,
        name="record_respond",
    ),
    path("<str:lang>/mailbox/file/<uuid:upload_id>/", views.mailbox_file, name="mailbox_file"),
    path("<str:lang>/journal/", views.journal, name="journal"),
    path("<str:lang>/journal/share/", views.journal_share, name="journal_share"),
    path("<str:lang>/journal/delete/", views.journal_delete, name="journal_delete"),
    path("<str:lang>/journal/file/<uuid:file_id>/", views.journal_file, name="journal_file"),
    # Anything else under a reporter's language: the intake's 404, without the site's cookie.
    re_path(r"^(?P<lang>[a-z]{2})/(?P<rest>.+)$", views.not_found, name="not_found"),
]
