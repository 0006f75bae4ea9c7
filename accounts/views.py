from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import DisplayNameForm, SignupForm
from accounts.services import user_create, user_set_display_name
from chat import ratelimit

logger = logging.getLogger(__name__)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


class LoginView(auth_views.LoginView):
    """
    Django's login, with a brake on guessing.

    Failures are counted per username and per address; past the limit the
    form refuses to check passwords until the window passes. An unknown
    username and a wrong password look and count the same.
    """

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        subjects = _login_subjects(request)
        waits = [ratelimit.exceeded(*subject) for subject in subjects]
        retry_after = max((w for w in waits if w is not None), default=None)
        if retry_after is not None:
            form = self.get_form()
            form.add_error(
                None,
                _("Too many failed attempts. Try again in %(seconds)d s.")
                % {"seconds": retry_after},
            )
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
            return response
        response = super().post(request, *args, **kwargs)
        if not request.user.is_authenticated:
            for subject in subjects:
                ratelimit.hit(*subject)
            logger.info("failed login for %r from %s", subjects[0][1], subjects[1][1])
        return response


def _login_subjects(request: HttpRequest) -> list[tuple[str, str, tuple[Any, ...]]]:
    username = str(request.POST.get("username", ""))[:150].lower()
    address = request.META.get("REMOTE_ADDR") or "unknown"
    return [
        ("login-user", username, ratelimit.parse_rates(settings.RATE_LIMIT_LOGIN_USER)),
        ("login-ip", address, ratelimit.parse_rates(settings.RATE_LIMIT_LOGIN_IP)),
    ]


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and log it in."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_create(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data["display_name"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(_next_url(request))
    return render(
        request, "registration/signup.html", {"form": form, "next": _next_url(request)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """Show and change the display name."""
    form = DisplayNameForm(
        request.POST or None, initial={"display_name": request.user.shown_name}
    )
    if request.method == "POST" and form.is_valid():
        user_set_display_name(
            user=request.user, display_name=form.cleaned_data["display_name"]
        )
        messages.success(request, _("Your display name is saved."))
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form})
