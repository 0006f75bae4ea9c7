"""The admin site: Django's, with the same throttled login as the pages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from accounts import throttle
from accounts.forms import AdminLoginForm


class ChatAdminSite(admin.AdminSite):
    login_form = AdminLoginForm

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return throttle.throttled_response(
            request, super().login(request, extra_context)
        )
