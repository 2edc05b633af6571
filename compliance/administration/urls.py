"""Administration pages, mounted at /administration/."""

from django.urls import path

from compliance.administration.views import agents, index, policy, users

app_name = "administration"
urlpatterns = [
    path("", index.IndexView.as_view(), name="index"),
    path("agents/", agents.AgentListView.as_view(), name="agent-list"),
    path("agents/enrol/", agents.AgentEnrolView.as_view(), name="agent-enrol"),
    path("agents/<int:pk>/", agents.AgentDetailView.as_view(), name="agent-detail"),
    path("agents/<int:pk>/revoke/", agents.AgentRevokeView.as_view(), name="agent-revoke"),
    path("users/", users.UserListView.as_view(), name="user-list"),
    path("users/new/", users.UserCreateView.as_view(), name="user-create"),
    path("users/<int:pk>/", users.UserDetailView.as_view(), name="user-detail"),
    path("users/<int:pk>/role/", users.UserRoleView.as_view(), name="user-role"),
    path("users/<int:pk>/active/", users.UserActiveView.as_view(), name="user-active"),
    path("users/<int:pk>/limits/", users.UserLimitsView.as_view(), name="user-limits"),
    path("users/<int:pk>/password-link/", users.UserPasswordLinkView.as_view(), name="user-password-link"),
    path("set-password/<uidb64>/<token>/", users.SetPasswordView.as_view(), name="set-password"),
    path("policy/", policy.SitePolicyView.as_view(), name="policy"),
    path("policy/<int:pk>/activate/", policy.PolicyActivateView.as_view(), name="policy-activate"),
    path("policy/rejudge/", policy.RejudgeStartView.as_view(), name="rejudge-start"),
    path("policy/rejudge/<int:pk>/", policy.RejudgeDetailView.as_view(), name="rejudge-detail"),
    path("policy/rejudge/<int:pk>/status/", policy.RejudgeStatusView.as_view(), name="rejudge-status"),
]
