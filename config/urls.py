"""Top-level URLs: the admin, accounts, API v1 and the chat."""

from django.contrib import admin
from django.urls import include, path

from api import v1

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", v1.api.urls),
    path("", include("chat.urls")),
]

# The API answers errors in its own JSON shape, pages with Django's.
handler400 = "chat.api.bad_request"
handler404 = "chat.api.not_found"
