"""Administration pages, mounted at /administration/."""

from django.urls import path

app_name = "administration"
urlpatterns: list = [
]
