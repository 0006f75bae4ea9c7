"""The operators' view; new rooms and messages go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from chat import services
from chat.models import Attachment, Membership, Message, Reaction, Revision, Room


class MembershipInline(admin.TabularInline):
    """Who may read a private room; the operators' view of it."""

    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    readonly_fields = ("created",)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "created", "last_message_at")
    list_filter = ("kind",)
    inlines = [MembershipInline]
    search_fields = ("name", "slug")
    readonly_fields = ("created", "last_message_at", "created_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Room | None = None) -> Any:
        # The slug names the room's address and socket group: fixed at birth.
        if obj is None:
            return (*self.readonly_fields, "slug")
        return self.readonly_fields

    def save_model(
        self, request: HttpRequest, obj: Room, form: ModelForm, change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        room = services.room_create(
            name=obj.name, created_by=request.user, kind=obj.kind
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
