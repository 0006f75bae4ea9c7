from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.mail import EmailMessage
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from accounts.mail import email_send_later
from accounts.models import User
from accounts.throttle import login_retry_after, password_confirmed
from accounts.validators import DISPLAY_NAME_MAX_LENGTH, clean_display_name


class SignupForm(UserCreationForm):
    """Username, password twice and an optional display name."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=DISPLAY_NAME_MAX_LENGTH,
        required=False,
        help_text=_("Shown on your messages. Leave blank to use your username."),
    )
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        help_text=_("Only for resetting a forgotten password."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    # The display name is a model field here so that the model's name check
    # (User.validate_names) sees it; the order on the page stays.
    field_order = ("username", "password1", "password2")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "display_name")

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


def _throttled() -> forms.ValidationError:
    return forms.ValidationError(
        _("Too many failed attempts. Wait a few minutes and try again."),
        code="throttled",
    )


class ThrottledLoginMixin:
    """Say that logins are paused, instead of "wrong password", when throttled."""

    request: Any

    def get_invalid_login_error(self) -> forms.ValidationError:
        if self.request is not None and login_retry_after(self.request) is not None:
            return _throttled()
        error: forms.ValidationError = super().get_invalid_login_error()  # type: ignore[misc]
        return error


def _confirm_password(request: HttpRequest, user: Any, password: str) -> None:
    """Raise ValidationError unless ``password`` is ``user``'s (throttled)."""
    if not password_confirmed(request, user, password):
        if login_retry_after(request) is not None:
            raise _throttled()
        raise forms.ValidationError(
            _("That is not your password."), code="password_incorrect"
        )


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The login page's form."""


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login form: staff only, throttled like every login."""


class EmailForm(forms.Form):
    """The address password resets go to; blank for none."""

    email = forms.EmailField(
        label=_("Email"),
        required=False,
        help_text=_("Only for resetting a forgotten password."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class PasswordConfirmForm(forms.Form):
    """The current password, asked again before a grave step."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        _confirm_password(self.request, self.request.user, password)
        return password


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's password change, its old password checked like a login."""

    def __init__(
        self, user: Any, *args: Any, request: HttpRequest, **kwargs: Any
    ) -> None:
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        password: str = self.cleaned_data["old_password"]
        _confirm_password(self.request, self.user, password)
        return password


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, mailing from the mail thread (accounts/mail.py)."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        # Rendered here, in the request's language; only the sending waits.
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        email_send_later(EmailMessage(subject, body, from_email, [to_email]))


class TokenForm(forms.Form):
    """A new personal access token: for whom, its name, scopes and expiry."""

    EXPIRY_DAYS = (
        ("30", _("30 days")),
        ("90", _("90 days")),
        ("365", _("a year")),
        ("", _("never")),
    )

    owner = forms.TypedChoiceField(label=_("For"), coerce=int)
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What it is for, e.g. “build bot” or “laptop terminal”."),
    )
    scopes = forms.ChoiceField(
        label=_("Access"),
        choices=(
            ("read", _("Read only")),
            ("read,write", _("Read and write")),
        ),
        initial="read,write",
        widget=forms.RadioSelect,
    )
    expires_in = forms.ChoiceField(
        label=_("Expires after"), choices=EXPIRY_DAYS, initial="90", required=False
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.TypedChoiceField)
        owner.choices = [
            (user.pk, _("You (%(name)s)") % {"name": user.username}),
            *(
                (bot.pk, _("Bot %(name)s") % {"name": bot.username})
                for bot in user.bots.order_by("username")
            ),
        ]
        owner.initial = user.pk


class BotForm(forms.Form):
    """A new bot account, owned by the person who makes it."""

    username = forms.CharField(
        label=_("Bot's username"),
        max_length=150,
        help_text=_("Shown on its messages, with a “bot” tag."),
    )
