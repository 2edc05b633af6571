"""API routes of compliance.oscal, mounted under /api/v1/."""

urlpatterns: list = []
