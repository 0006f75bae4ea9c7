from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import throttle
from accounts.forms import DisplayNameForm, LoginForm, SignupForm
from accounts.services import user_create, user_set_display_name

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
    Django's login, throttled (accounts/throttle.py): while too many
    attempts were made, every answer is a 429 with the same page.
    """

    authentication_form = LoginForm

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if throttle.login_retry_after(self.request) is None:
            logger.info(
                "failed login for %r from %s",
                str(form.data.get("username", ""))[:150],
                throttle.client_address(self.request),
            )
        return throttle.throttled_response(self.request, response)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and log it in."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and (wait := throttle.signup_retry_after(request)):
        # Refused before any validation: the form tells nothing, not even
        # whether the username is taken.
        response = render(
            request,
            "registration/signup.html",
            {
                "form": SignupForm(initial={"username": form.data.get("username")}),
                "next": _next_url(request),
                "throttled": _("Too many sign-ups from your address. Try again later."),
            },
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    if request.method == "POST" and form.is_valid():
        user = user_create(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data["display_name"],
        )
        login(request, user, backend="accounts.throttle.ThrottledModelBackend")
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
