from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import throttle
from accounts.forms import (
    BotForm,
    DisplayNameForm,
    EmailForm,
    LoginForm,
    PasswordChangeForm,
    PasswordConfirmForm,
    PasswordResetForm,
    SignupForm,
    TokenForm,
)
from accounts.http import AuthenticatedHttpRequest
from accounts.services import (
    bot_create,
    bot_delete,
    token_create,
    token_revoke,
    tokens_managed,
    user_create,
    user_delete,
    user_end_other_sessions,
    user_set_display_name,
    user_set_email,
    user_set_password,
)

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
        try:
            user = user_create(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
                email=form.cleaned_data["email"],
            )
        except ValidationError as error:
            # Someone took the name between the form's check and the save.
            form.add_error(None, error)
        else:
            login(request, user, backend="accounts.throttle.ThrottledModelBackend")
            return redirect(_next_url(request))
    return render(
        request, "registration/signup.html", {"form": form, "next": _next_url(request)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Show and change the display name."""
    form = DisplayNameForm(
        request.POST or None, initial={"display_name": request.user.shown_name}
    )
    if request.method == "POST" and form.is_valid():
        try:
            user_set_display_name(
                user=request.user, display_name=form.cleaned_data["display_name"]
            )
        except ValidationError as error:
            # Another user goes by that name (User.validate_names).
            form.add_error(None, error)
        else:
            messages.success(request, _("Your display name is saved."))
            return redirect("profile")
    return render(request, "accounts/profile.html", _profile_context(request, form))


def _profile_context(
    request: AuthenticatedHttpRequest,
    form: DisplayNameForm | None = None,
    email_form: EmailForm | None = None,
    token_form: TokenForm | None = None,
    bot_form: BotForm | None = None,
    new_token: str | None = None,
) -> dict[str, Any]:
    user = request.user
    return {
        "form": form
        if form is not None
        else DisplayNameForm(initial={"display_name": user.shown_name}),
        "email_form": email_form
        if email_form is not None
        else EmailForm(initial={"email": user.email}),
        "token_form": token_form or TokenForm(user),
        "bot_form": bot_form or BotForm(),
        "tokens": tokens_managed(user),
        "bots": user.bots.order_by("username"),
        # Shown on this one page only: only its hash is stored.
        "new_token": new_token,
    }


def _expiry(days: str) -> datetime | None:
    return timezone.now() + timedelta(days=int(days)) if days else None


@login_required
@require_POST
def token_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Make a personal access token and show it, this once."""
    form = TokenForm(request.user, request.POST)
    if form.is_valid():
        owner = (
            request.user
            if form.cleaned_data["owner"] == request.user.pk
            else request.user.bots.filter(pk=form.cleaned_data["owner"]).first()
        )
        try:
            if owner is None:
                raise ValidationError(_("Choose yourself or one of your bots."))
            _token, value = token_create(
                user=owner,
                actor=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"].split(","),
                expires=_expiry(form.cleaned_data["expires_in"]),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            response = render(
                request,
                "accounts/profile.html",
                _profile_context(request, new_token=value),
            )
            # Not kept by the browser's cache or back button.
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request, "accounts/profile.html", _profile_context(request, token_form=form)
    )


@login_required
@require_POST
def token_revoke_view(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    """Revoke a token; the programs using it are cut off at once."""
    if token_revoke(user=request.user, token_id=token_id):
        messages.success(request, _("The token is revoked."))
    return redirect("profile")


@login_required
@require_POST
def bot_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Make a bot account owned by the user."""
    form = BotForm(request.POST)
    if form.is_valid():
        try:
            bot = bot_create(owner=request.user, username=form.cleaned_data["username"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Bot %(name)s is made. Make it a token below.")
                % {"name": bot.username},
            )
            return redirect("profile")
    return render(
        request, "accounts/profile.html", _profile_context(request, bot_form=form)
    )


@login_required
@require_POST
def bot_delete_view(request: AuthenticatedHttpRequest, bot_id: int) -> HttpResponse:
    """Delete one of the user's bots; its messages stay."""
    if bot_delete(owner=request.user, bot_id=bot_id):
        messages.success(request, _("The bot is deleted."))
    return redirect("profile")


@login_required
@require_POST
def profile_email(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Change the address password resets go to."""
    form = EmailForm(request.POST)
    if form.is_valid():
        user_set_email(user=request.user, email=form.cleaned_data["email"])
        messages.success(request, _("Your email address is saved."))
        return redirect("profile")
    return render(
        request, "accounts/profile.html", _profile_context(request, email_form=form)
    )


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change; every other login of the account ends."""

    form_class = PasswordChangeForm
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("profile")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form: Any) -> HttpResponse:
        user_set_password(user=form.user, password=form.cleaned_data["new_password1"])
        # This login stays: its session takes the new hash (and a new key).
        update_session_auth_hash(self.request, form.user)
        messages.success(
            self.request,
            _("Your password is changed. Your other sessions are logged out."),
        )
        return HttpResponseRedirect(self.get_success_url())


@login_required
@require_http_methods(["GET", "POST"])
def sessions_end(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Log out every other session of the account, after its password."""
    form = PasswordConfirmForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user_end_other_sessions(
            user=request.user, password=form.cleaned_data["password"]
        )
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your other sessions are logged out."))
        return redirect("profile")
    return render(request, "accounts/sessions_end.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Delete the account, after its password; its messages stay."""
    form = PasswordConfirmForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user_delete(user=request.user)
        logout(request)
        messages.success(request, _("Your account is deleted."))
        return redirect("chat:room_list")
    return render(request, "accounts/account_delete.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    """
    Django's password reset, limited per address.

    Known and unknown addresses, and limited ones, get the same answer: the
    "check your mail" page. Mail goes only to active accounts with that
    address, from the mail thread (accounts/mail.py).
    """

    form_class = PasswordResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"

    def form_valid(self, form: Any) -> HttpResponse:
        email = form.cleaned_data["email"]
        if throttle.password_reset_retry_after(self.request, email) is not None:
            logger.warning("password reset for %r not sent: too many", email)
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset link; the new password ends every login made before."""

    template_name = "accounts/password_reset_confirm.html"

    def form_valid(self, form: Any) -> HttpResponse:
        user_set_password(user=form.user, password=form.cleaned_data["new_password1"])
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
