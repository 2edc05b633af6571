"""HTML pages of compliance.evidence."""

app_name = "evidence"
urlpatterns: list = []
