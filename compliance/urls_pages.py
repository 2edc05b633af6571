"""HTML pages of the compliance domain (results, posture, exceptions, evidence, reports)."""

app_name = "compliance"
urlpatterns: list = []
