from django.urls import path

from workindex import views

urlpatterns = [
    path("console/my-day/", views.my_day, name="my_day"),
]
