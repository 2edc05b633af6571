"""API routes of compliance.imports, mounted under /api/v1/."""

urlpatterns: list = []
