"""HTML pages of compliance.exceptions, mounted at /exceptions/."""

from django.urls import path

from compliance.exceptions import views

app_name = "exceptions"
urlpatterns = [
    path("", views.RiskAcceptanceListView.as_view(), name="riskacceptance-list"),
    path("new/", views.RiskAcceptanceCreateView.as_view(), name="riskacceptance-create"),
    path("<int:pk>/", views.RiskAcceptanceDetailView.as_view(), name="riskacceptance-detail"),
    path("<int:pk>/approve/", views.ApproveView.as_view(), name="riskacceptance-approve"),
    path("<int:pk>/reject/", views.RejectView.as_view(), name="riskacceptance-reject"),
    path("<int:pk>/revoke/", views.RevokeView.as_view(), name="riskacceptance-revoke"),
]
