"""HTML pages of compliance.exceptions."""

app_name = "exceptions"
urlpatterns: list = []
