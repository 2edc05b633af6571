"""/metrics, mounted at the site root."""

urlpatterns: list = []
