"""Case handling on a client organisation's host, under /cases/."""

from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("administration/", views.administration, name="administration"),
    path("administration/settings/", views.settings_update, name="settings"),
    path("administration/access-log/", views.access_log, name="access_log"),
    path("internal/", views.internal_registrations, name="internal"),
    path("register/", views.reports_register, name="reports_register"),
    path("register/export.csv", views.reports_register_export, name="reports_register_export"),
    path("<str:reference>/", views.case_detail, name="detail"),
    path("<str:reference>/edit/", views.case_edit, name="edit"),
    path("<str:reference>/close/", views.case_close, name="close"),
    path("<str:reference>/handover/", views.case_handover, name="handover"),
    path("<str:reference>/export/", views.case_export, name="export"),
    path("<str:reference>/erase/", views.case_erase, name="erase"),
    path("<str:reference>/phase/", views.phase_move, name="phase"),
    path("<str:reference>/plan/", views.conversation_plan, name="plan"),
    path("<str:reference>/conversations/", views.conversation_add, name="conversation_add"),
    path("<str:reference>/consents/", views.consent_add, name="consent_add"),
    path("<str:reference>/consents/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("<str:reference>/steps/", views.step_add, name="step_add"),
    path("<str:reference>/steps/done/", views.step_done, name="step_done"),
    path("<str:reference>/referrals/", views.referral_add, name="referral_add"),
    path("<str:reference>/paps/", views.paps_handover, name="paps_handover"),
    path("<str:reference>/follow-ups/", views.followup_add, name="followup_add"),
    path("<str:reference>/follow-ups/done/", views.followup_done, name="followup_done"),
    path("<str:reference>/time/", views.time_add, name="time_add"),
    path("<str:reference>/notes/", views.note_add, name="note_add"),
]
