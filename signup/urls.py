from django.urls import path

from signup import views

app_name = "signup"

urlpatterns = [
    path("", views.start, name="start"),
    path("sent/", views.sent, name="sent"),
]
