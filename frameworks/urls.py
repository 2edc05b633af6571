"""HTML pages of the frameworks app, mounted at /frameworks/."""

from django.urls import path

from frameworks import views

app_name = "frameworks"
urlpatterns = [
    path("", views.framework_list, name="framework-list"),
    path("<str:slug>/", views.framework_detail, name="framework-detail"),
    path("<str:slug>/<str:ref_id>/", views.requirement_detail, name="requirement-detail"),
]
