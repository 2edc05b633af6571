"""HTML pages of compliance.audit."""

app_name = "audit"
urlpatterns: list = []
