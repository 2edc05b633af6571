"""The site's URLs with the estate API mounted under /api/v1/, as compliance/hosts/api_urls.py asks plimsoll/urls.py
to mount it (until it does, the tests of that API use this URLconf)."""

from django.urls import include, path

from plimsoll.urls import urlpatterns as site

urlpatterns = [path("api/v1/", include("compliance.hosts.api_urls")), *site]
