from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.throttle import login_retry_after
from accounts.validators import DISPLAY_NAME_MAX_LENGTH, clean_display_name


class SignupForm(UserCreationForm):
    """Username, password twice and an optional display name."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=DISPLAY_NAME_MAX_LENGTH,
        required=False,
        help_text=_("Shown on your messages. Leave blank to use your username."),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)

    def clean_display_name(self) -> str:
        value = self.cleaned_data.get("display_name", "")
        return clean_display_name(value) if value.strip() else ""


class DisplayNameForm(forms.Form):
    display_name = forms.CharField(
        label=_("Display name"), max_length=DISPLAY_NAME_MAX_LENGTH
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["display_name"].widget.attrs["autocomplete"] = "nickname"

    def clean_display_name(self) -> str:
        return clean_display_name(self.cleaned_data["display_name"])


class ThrottledLoginMixin:
    """Say that logins are paused, instead of "wrong password", when throttled."""

    request: Any

    def get_invalid_login_error(self) -> forms.ValidationError:
        if self.request is not None and login_retry_after(self.request) is not None:
            return forms.ValidationError(
                _("Too many failed attempts. Wait a few minutes and try again."),
                code="throttled",
            )
        return super().get_invalid_login_error()  # type: ignore[misc]


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The login page's form."""


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login form: staff only, throttled like every login."""
