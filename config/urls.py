"""Top-level URLs: the admin, accounts and the chat."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("chat.urls")),
]

# The API answers errors in its own JSON shape, pages with Django's.
handler400 = "chat.api.bad_request"
handler404 = "chat.api.not_found"
