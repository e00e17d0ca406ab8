from django.urls import path

from tenants import views

urlpatterns = [
    path("", views.home, name="home"),
    path("organisations/", views.organisations, name="organisations"),
    path("console/", views.console, name="console"),
    path("console/clients/new/", views.client_create, name="client_create"),
    path("console/clients/<int:client_id>/", views.client_detail, name="client_detail"),
    path("console/clients/<int:client_id>/edit/", views.client_edit, name="client_edit"),
    path("console/clients/<int:client_id>/assign/", views.client_assign, name="client_assign"),
    path(
        "console/clients/<int:client_id>/offboard/", views.client_offboard, name="client_offboard"
    ),
    path(
        "console/assignments/<int:assignment_id>/end/", views.assignment_end, name="assignment_end"
    ),
    path("console/people/", views.people, name="people"),
    path(
        "console/people/<slug:scope>/<int:membership_id>/remove/",
        views.membership_remove,
        name="membership_remove",
    ),
    path(
        "console/people/offers/<int:offer_id>/withdraw/",
        views.role_offer_withdraw,
        name="role_offer_withdraw",
    ),
    path("console/trail/", views.trail, name="trail"),
    path("console/trail.csv", views.trail_csv, name="trail_csv"),
    path("console/settings/", views.firm_settings, name="firm_settings"),
    path("offers/", views.role_offers, name="role_offers"),
    path(
        "offers/<int:offer_id>/accept/",
        views.role_offer_answer,
        {"accept": True},
        name="role_offer_accept",
    ),
    path(
        "offers/<int:offer_id>/decline/",
        views.role_offer_answer,
        {"accept": False},
        name="role_offer_decline",
    ),
    path("console/themes/", views.theme_list, name="theme_list"),
    path("console/themes/<int:theme_id>/", views.theme_edit, name="theme_edit"),
    path(
        "console/themes/<int:theme_id>/hide/",
        views.theme_set_active,
        {"active": False},
        name="theme_hide",
    ),
    path(
        "console/themes/<int:theme_id>/show/",
        views.theme_set_active,
        {"active": True},
        name="theme_show",
    ),
    path(
        "console/themes/standard/<slug:code>/hide/",
        views.standard_theme_set_active,
        {"active": False},
        name="standard_theme_hide",
    ),
    path(
        "console/themes/standard/<slug:code>/show/",
        views.standard_theme_set_active,
        {"active": True},
        name="standard_theme_show",
    ),
]
