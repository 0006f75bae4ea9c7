from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as AuthUserManager
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import tokens
from accounts.validators import (
    DISPLAY_NAME_MAX_LENGTH,
    NAME_KEY_MAX_LENGTH,
    fold,
    name_keys,
)


class UserManager(AuthUserManager["User"]):
    """Django's user manager, finding a user by any case or width of the name."""

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(username_key=fold(str(username or "")))

    async def aget_by_natural_key(self, username: str | None) -> User:
        return await self.aget(username_key=fold(str(username or "")))


class User(AbstractUser):
    """A chat user: Django's user with the name shown on messages."""

    display_name = models.CharField(
        _("display name"),
        max_length=DISPLAY_NAME_MAX_LENGTH,
        blank=True,
        help_text=_("Shown on your messages. Defaults to your username."),
    )
    # The folded username (validators.fold), kept by save(): a login with
    # any case or width of the username finds the one user it can mean.
    username_key = models.CharField(
        max_length=NAME_KEY_MAX_LENGTH, unique=True, editable=False
    )

    # A bot posts through a token or a webhook, never logs in with a
    # password; its messages carry a "bot" tag.
    is_bot = models.BooleanField(
        _("bot"),
        default=False,
        help_text=_("A program's account: its messages are tagged as a bot's."),
    )
    bot_owner = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="bots",
        verbose_name=_("bot's owner"),
        help_text=_("The person who made this bot and manages its tokens."),
    )

    objects: ClassVar[UserManager] = UserManager()

    def __str__(self) -> str:
        return self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, keeping the folded names (username_key, NameClaim) in step."""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"username", "display_name"}.isdisjoint(
            update_fields
        ):
            super().save(*args, **kwargs)
            return
        # Here rather than in each caller, so that every way a user is
        # written (services, the admin, createsuperuser, create_user, a bare
        # objects.create) keeps the keys. Queryset .update() and
        # bulk_create() skip save(): never use them on names.
        self.username_key = fold(self.username)
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "username_key"}
        adding = self._state.adding
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            if not adding:
                NameClaim.objects.filter(user=self).delete()
            NameClaim.objects.bulk_create(
                NameClaim(user=self, key=key)
                for key in name_keys(self.username, self.display_name)
            )

    def full_clean(
        self,
        exclude: Iterable[str] | None = None,
        validate_unique: bool = True,
        validate_constraints: bool = True,
    ) -> None:
        # username_key follows from the username in save(); a clash is
        # reported on the username (validate_unique), which a person can fix.
        super().full_clean(
            {*(exclude or ()), "username_key"}, validate_unique, validate_constraints
        )

    def validate_unique(self, exclude: Collection[str] | None = None) -> None:
        """Also refuse a name another user holds once folded (validate_names)."""
        excluded = set(exclude or ())
        errors: dict[str, list[ValidationError]] = {}
        try:
            super().validate_unique(excluded)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        try:
            # A field already refused as an exact duplicate needs no second
            # message.
            self.validate_names(exclude=excluded | errors.keys())
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    @property
    def shown_name(self) -> str:
        """Return the name shown on this user's messages."""
        return self.display_name or self.username

    def validate_names(self, *, exclude: Collection[str] = ()) -> None:
        """
        Raise ValidationError if another user holds a name of this user's.

        The username and the shown name, folded (validators.fold), may not
        equal another user's username or shown name; a display name may
        equal the user's own username. Each error goes on the field it comes
        from; fields in ``exclude`` are not checked (a form that does not
        show a field cannot have it fixed). Sign-up, the profile page, the
        admin's forms, the services and createsuperuser all check here; the
        database (NameClaim) refuses what slips past under a race.
        """
        # A form that already refused the username leaves None in it.
        username = self.username or ""
        username_key = fold(username)
        display_key = fold(self.display_name or username)
        claims = NameClaim.objects.filter(key__in={username_key, display_key})
        if self.pk is not None:
            claims = claims.exclude(user_id=self.pk)
        taken = dict(claims.values_list("key", "user__username_key"))
        errors: dict[str, ValidationError] = {}
        if "username" not in exclude:
            if len(username_key) > NAME_KEY_MAX_LENGTH:
                errors["username"] = _too_long()
            elif taken.get(username_key) == username_key:
                errors["username"] = self.unique_error_message(User, ("username",))
            elif username_key in taken:
                errors["username"] = name_taken_error()
        check_display = "display_name" not in exclude and bool(self.display_name)
        if check_display and display_key == username_key and "username" not in exclude:
            check_display = False  # The username's check covered this key.
        if check_display:
            if len(display_key) > NAME_KEY_MAX_LENGTH:
                errors["display_name"] = _too_long()
            elif display_key in taken:
                errors["display_name"] = name_taken_error()
        if errors:
            raise ValidationError(errors)


class NameClaim(models.Model):
    """
    A folded name (validators.fold) that belongs to one user.

    Each user holds the key of their username and the key of their shown
    name, one row when the two fold alike. The key being unique is what
    makes the database refuse a name another user holds, as username or as
    display name, also when two people take it at the same moment, on
    SQLite and PostgreSQL alike: a check in Python alone would let both in.
    """

    key = models.CharField(max_length=NAME_KEY_MAX_LENGTH, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="name_claims")

    class Meta:
        verbose_name = _("name claim")
        verbose_name_plural = _("name claims")

    def __str__(self) -> str:
        return self.key


def name_taken_error() -> ValidationError:
    """The error for a name another user holds once folded."""
    return ValidationError(
        _("Another user already goes by this name."), code="name_taken"
    )


def _too_long() -> ValidationError:
    return ValidationError(_("This name is too long once normalized."), code="too_long")


class AccessTokenManager(models.Manager["AccessToken"]):
    def find(self, value: str) -> AccessToken | None:
        """
        Return the stored token ``value`` is, if it is live; mark it used
        (at most once a minute).
        """
        if not tokens.well_formed(value):
            return None
        token = (
            self.select_related("user").filter(key_hash=tokens.digest(value)).first()
        )
        if token is None or not token.live:
            return None
        now = timezone.now()
        if token.last_used is None or now - token.last_used >= tokens.LAST_USED_STEP:
            self.filter(pk=token.pk).update(last_used=now)
            token.last_used = now
        return token


class AccessToken(models.Model):
    """
    A personal access token: a program acting as its user, within scopes.

    Only the token's SHA-256 is stored (accounts.tokens), so the token
    itself is shown once, when made. Revoking deletes the row.
    """

    class Scope(models.TextChoices):
        READ = "read", _("read")
        WRITE = "write", _("write")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    scopes = models.JSONField(_("scopes"), default=list)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The token's first characters, shown to tell tokens apart.
    hint = models.CharField(_("starts with"), max_length=16, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    objects: ClassVar[AccessTokenManager] = AccessTokenManager()

    class Meta:
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def can_write(self) -> bool:
        return self.Scope.WRITE in self.scopes

    @property
    def live(self) -> bool:
        """Whether the token still acts for its user: not expired, user active."""
        return self.user.is_active and (
            self.expires is None or self.expires > timezone.now()
        )
