from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import AccessToken, User
from accounts.services import token_revoke, user_delete_by_staff
from accounts.validators import fold


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "display_name",
        "email",
        "is_staff",
        "is_bot",
        "is_active",
    )
    list_filter = (*BaseUserAdmin.list_filter, "is_bot")
    search_fields = ("username", "display_name", "email")
    autocomplete_fields = ("bot_owner",)
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Chat"), {"fields": ("display_name", "is_bot", "bot_owner")}),
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        # icontains misses other cases of non-ASCII letters on SQLite (ÉLAN
        # for élan) and other widths everywhere; the folded names find them.
        results, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        if folded := fold(search_term):
            results |= queryset.filter(name_claims__key__contains=folded)
            may_have_duplicates = True
        return results, may_have_duplicates

    # Deleting goes through the service, as the user's own deletion does:
    # their messages stay as from a deleted user, their files go.
    def delete_model(self, request: HttpRequest, obj: User) -> None:
        user_delete_by_staff(user=obj, staff=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user_delete_by_staff(user=user, staff=request.user)


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Staff see every token and may revoke one; tokens are made by their users."""

    list_display = ("name", "user", "hint", "scopes", "created", "expires", "last_used")
    list_select_related = ("user",)
    search_fields = ("name", "user__username", "hint")
    readonly_fields = ("user", "name", "scopes", "hint", "created", "last_used")
    fields = (*readonly_fields, "expires")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Revoking goes through the service: the token's sockets close.
    def delete_model(self, request: HttpRequest, obj: AccessToken) -> None:
        token_revoke(user=obj.user, token_id=obj.pk)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[AccessToken]
    ) -> None:
        for token in queryset.select_related("user"):
            token_revoke(user=token.user, token_id=token.pk)
