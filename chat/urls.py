from django.urls import path

from chat import api, views

app_name = "chat"

urlpatterns = [
    path("", views.room_list, name="room_list"),
    path("rooms/new/", views.room_create, name="room_create"),
    path("rooms/<slug:slug>/", views.room_detail, name="room_detail"),
    path("files/<uuid:key>/", views.attachment_download, name="attachment_download"),
    path(
        "files/<uuid:key>/thumbnail/",
        views.attachment_thumbnail,
        name="attachment_thumbnail",
    ),
    path("rooms/<slug:slug>/webhooks/", views.room_webhooks, name="room_webhooks"),
    path(
        "rooms/<slug:slug>/webhooks/<int:webhook_id>/revoke/",
        views.room_webhook_delete,
        name="room_webhook_delete",
    ),
    path("hooks/<str:key>", api.webhook_post_api, name="webhook_post"),
    path("search/", views.search_page, name="search"),
    path("api/search", api.search_api, name="search_api"),
    path("api/rooms", api.rooms_api, name="rooms_api"),
    path("api/rooms/<slug:slug>/join", api.room_join_api, name="room_join_api"),
    path("api/rooms/<slug:slug>/members", api.member_list_api, name="member_list_api"),
    path(
        "api/rooms/<slug:slug>/members/<str:username>",
        api.member_api,
        name="member_api",
    ),
    path("api/rooms/<slug:slug>/presence", api.presence_api, name="presence_api"),
    path("api/rooms/<slug:slug>/read", api.read_api, name="read_api"),
    path("api/rooms/<slug:slug>/mute", api.mute_api, name="mute_api"),
    path("api/read-all", api.read_all_api, name="read_all_api"),
    path("api/direct", api.direct_api, name="direct_api"),
    path("api/blocks", api.block_list_api, name="block_list_api"),
    path("api/blocks/<str:username>", api.block_api, name="block_api"),
    path(
        "api/rooms/<slug:slug>/messages",
        api.message_list_api,
        name="message_list_api",
    ),
    path(
        "api/rooms/<slug:slug>/messages/<int:message_id>",
        api.message_api,
        name="message_api",
    ),
    path(
        "api/rooms/<slug:slug>/messages/<int:message_id>/reactions/<str:emoji>",
        api.reaction_api,
        name="reaction_api",
    ),
    path(
        "api/rooms/<slug:slug>/messages/<int:message_id>/revisions",
        api.revision_list_api,
        name="revision_list_api",
    ),
    path(
        "api/rooms/<slug:slug>/files",
        api.attachment_upload_api,
        name="attachment_upload_api",
    ),
]
