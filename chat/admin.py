"""
The operators' view of stored data: every room, private ones and direct
conversations too, whatever the chat's access rule says. Changes made here
(new rooms, members, posts, deletions) go through the services, so they
are checked, stored and broadcast as in the chat.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from chat import services
from chat.exceptions import ChatError
from chat.models import (
    Attachment,
    Block,
    Membership,
    Message,
    Reaction,
    Revision,
    Room,
    Webhook,
)

admin.site.index_title = _(
    "Stored data, as operators see it: every room, private ones included"
)


class MembershipInline(admin.TabularInline):
    """Who is in a room; added and removed through the services."""

    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "created", "hidden", "last_read_id", "muted")
    # Where members stopped reading and what they muted are theirs.
    readonly_fields = ("created", "hidden", "last_read_id", "muted")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is not None and obj.kind == Room.Kind.DIRECT:
            # A direct conversation's people never change.
            kwargs["fields"] = ()
        return super().get_formset(request, obj, **kwargs)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.kind != Room.Kind.DIRECT

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.kind != Room.Kind.DIRECT

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A membership is added or removed, never pointed at someone else.
        return False


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "member_count", "last_message_at")
    list_filter = ("kind",)
    inlines = [MembershipInline]
    search_fields = ("name", "slug")
    readonly_fields = ("created", "last_message_at", "created_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Room]:
        rooms: QuerySet[Room] = super().get_queryset(request)
        return rooms.annotate(members=Count("memberships"))

    def formfield_for_choice_field(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "kind":
            # Direct conversations are opened by their people, in the chat.
            kwargs["choices"] = [
                (value, label)
                for value, label in Room.Kind.choices
                if value != Room.Kind.DIRECT
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    @admin.display(description=_("members"), ordering="members")
    def member_count(self, obj: Room) -> int:
        return obj.members  # type: ignore[attr-defined, no-any-return]

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: Any, change: bool
    ) -> None:
        if (
            not isinstance(formset, BaseInlineFormSet)
            or formset.model is not Membership
        ):
            super().save_formset(request, form, formset, change)
            return
        room = form.instance
        # What the change message lists, as formset.save() would have set it.
        formset.new_objects, formset.changed_objects = [], []
        formset.deleted_objects = [
            inline.instance for inline in formset.deleted_forms if inline.instance.pk
        ]
        for removed in formset.deleted_objects:
            self._member(request, services.member_remove, room, removed.user)
        for inline in formset.forms:
            if inline.instance.pk is None and inline.has_changed():
                user = inline.cleaned_data.get("user")
                if user is not None and not inline.cleaned_data.get("DELETE"):
                    self._member(request, services.member_add, room, user)
                    formset.new_objects.append(inline.instance)

    def _member(self, request: HttpRequest, action: Any, room: Room, user: Any) -> None:
        try:
            action(room=room, actor=request.user, username=user.username)
        except ChatError as error:
            self.message_user(request, error.detail, messages.ERROR)

    def get_readonly_fields(self, request: HttpRequest, obj: Room | None = None) -> Any:
        # The slug names the room's address and socket group: fixed at birth.
        if obj is None:
            return (*self.readonly_fields, "slug")
        # Who may read it follows from its kind: fixed at birth too.
        return (*self.readonly_fields, "kind")

    def save_model(
        self, request: HttpRequest, obj: Room, form: ModelForm, change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        room = services.room_create(
            name=obj.name,
            created_by=request.user,
            kind=obj.kind,
            members_can_add=obj.members_can_add,
        )
        obj.pk, obj.slug, obj.created = room.pk, room.slug, room.created
        obj.created_by = room.created_by


class AttachmentInline(admin.StackedInline):
    model = Attachment
    extra = 0
    can_delete = False
    readonly_fields = ("key", "name", "size", "content_type", "file", "thumbnail")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RevisionInline(admin.TabularInline):
    """A message's earlier texts, oldest first."""

    model = Revision
    extra = 0
    can_delete = False
    readonly_fields = ("text", "written", "replaced")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReactionInline(admin.TabularInline):
    model = Reaction
    extra = 0
    can_delete = False
    readonly_fields = ("emoji", "user", "created")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """
    Messages as stored. Deleting one here leaves a tombstone, as deleting
    it in the chat does (services.message_delete), and every reader sees it
    go; posted text is not rewritten here.
    """

    list_display = ("id", "room", "author", "short_text", "created", "edited")
    list_filter = ("room", "deleted")
    search_fields = ("text", "author__username", "author__display_name")
    list_select_related = ("room", "author")
    fields = (
        *("room", "text", "author", "created", "edited", "deleted", "seq"),
        *("reply_to", "client_id"),
    )
    readonly_fields = (
        *("author", "created", "edited", "deleted", "seq", "reply_to", "client_id"),
    )
    inlines = [AttachmentInline, RevisionInline, ReactionInline]

    @admin.display(description="text")
    def short_text(self, obj: Message) -> str:
        return obj.text[:80]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Message | None = None
    ) -> Any:
        # Only the author edits a message's text, in the chat.
        if obj is not None:
            return (*self.readonly_fields, "room", "text")
        return self.readonly_fields

    def delete_model(self, request: HttpRequest, obj: Message) -> None:
        services.message_delete(
            room=obj.room, actor=request.user, message_id=obj.pk, from_admin=True
        )

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for message in queryset.select_related("room"):
            self.delete_model(request, message)

    def save_model(
        self, request: HttpRequest, obj: Message, form: ModelForm, change: bool
    ) -> None:
        if change:
            return  # Nothing of a posted message is editable here.
        # Posting from the admin stamps, stores and broadcasts like any post.
        message, _created = services.message_create(
            room=obj.room, author=request.user, text=obj.text
        )
        obj.pk, obj.author, obj.created = message.pk, message.author, message.created


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("name", "content_type", "size", "message")
    search_fields = ("name",)
    readonly_fields = ("key", "message", "file", "thumbnail", "size", "content_type")


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ("user", "blocked", "created")
    search_fields = ("user__username", "blocked__username")
    autocomplete_fields = ("user", "blocked")


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Every room's incoming webhooks; made on the room's webhooks page or API."""

    list_display = ("name", "room", "bot", "created_by", "created", "last_used")
    list_select_related = ("room", "bot", "created_by")
    search_fields = ("name", "room__slug", "bot__username")
    readonly_fields = ("key", "room", "bot", "created_by", "created", "last_used")
    fields = ("name", *readonly_fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Revoking goes through the service: the bot is deactivated too.
    def delete_model(self, request: HttpRequest, obj: Webhook) -> None:
        services.webhook_delete(room=obj.room, actor=request.user, webhook_id=obj.pk)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[Webhook]
    ) -> None:
        for webhook in queryset.select_related("room"):
            self.delete_model(request, webhook)
