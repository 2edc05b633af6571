"""HTML pages of compliance.imports, mounted at /imports/."""

app_name = "imports"
urlpatterns: list = []
