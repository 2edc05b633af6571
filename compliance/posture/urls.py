"""HTML pages of compliance.posture."""

from django.urls import path

from compliance.posture import views

app_name = "posture"
urlpatterns = [
    path("", views.PostureIndexView.as_view(), name="index"),
    path("<str:slug>/", views.FrameworkPostureView.as_view(), name="framework"),
    path("<str:slug>/<str:ref_id>/", views.RequirementPostureView.as_view(), name="requirement"),
]
