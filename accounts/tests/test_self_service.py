"""Account self-service: email, password change, other sessions, deletion, reset."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.mail import emails_wait
from accounts.models import User
from accounts.services import (
    user_delete,
    user_delete_by_staff,
    user_end_other_sessions,
    user_set_email,
    user_set_password,
)
from chat.models import DELETED_AUTHOR_NAME, Message, Room
from chat.services import attachment_create, message_create
from conftest import PASSWORD, image_bytes

NEW_PASSWORD = "another-long-pass-456"


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_logged_in(client: Client) -> bool:
    return client.get("/accounts/profile/").status_code == 200


def without_csrf(html: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html.decode())


class UserSetEmailTests:
    def test_the_domain_is_lowercased_and_blank_removes_it(self, user: User) -> None:
        user_set_email(user=user, email=" Alice@Example.COM ")
        user.refresh_from_db()
        assert user.email == "Alice@example.com"
        user_set_email(user=user, email="")
        user.refresh_from_db()
        assert user.email == ""

    def test_a_malformed_address_is_refused(self, user: User) -> None:
        with pytest.raises(ValidationError):
            user_set_email(user=user, email="not an address")
        user.refresh_from_db()
        assert user.email == ""


class UserSetPasswordTests:
    def test_a_weak_password_is_refused(self, user: User) -> None:
        with pytest.raises(ValidationError):
            user_set_password(user=user, password="123")
        user.refresh_from_db()
        assert user.check_password(PASSWORD)


class UserEndOtherSessionsTests:
    def test_the_password_stays_under_a_new_hash(self, user: User) -> None:
        before = user.get_session_auth_hash()
        user_end_other_sessions(user=user, password=PASSWORD)
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
        assert user.get_session_auth_hash() != before


class UserDeleteTests:
    def test_messages_stay_without_their_author_and_files_go(
        self,
        user: User,
        other_user: User,
        room: Room,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        text, _ = message_create(room=room, author=user, text="hello", client_id="k1")
        shared, _ = attachment_create(
            room=room,
            author=user,
            upload=SimpleUploadedFile("cat.png", image_bytes()),
            text="my cat",
        )
        kept, _ = message_create(room=room, author=other_user, text="nice cat")
        files = [shared.attachment.file.path, shared.attachment.thumbnail.path]
        assert all(Path(path).exists() for path in files)

        # The files leave the storage once the deletion is committed.
        with django_capture_on_commit_callbacks(execute=True):
            user_delete(user=user)

        assert not User.objects.filter(username="alice").exists()
        for message in (text, shared):
            message.refresh_from_db()
            assert message.author is None
            assert message.author_name == DELETED_AUTHOR_NAME
            assert message.client_id is None
        assert not hasattr(Message.objects.get(pk=shared.pk), "attachment")
        assert not any(Path(path).exists() for path in files)
        kept.refresh_from_db()
        assert kept.author == other_user
        room.refresh_from_db()
        assert room.created_by is None

    def test_staff_deletion_keeps_messages_the_same_way(
        self, user: User, other_user: User, room: Room
    ) -> None:
        message, _ = message_create(room=room, author=user, text="hello")
        user_delete_by_staff(user=user, staff=other_user)
        message.refresh_from_db()
        assert message.author_name == DELETED_AUTHOR_NAME

    def test_deleting_in_the_admin_goes_the_same_way(
        self, user: User, room: Room
    ) -> None:
        message, _ = message_create(room=room, author=user, text="hello")
        staff = logged_in(User.objects.create_superuser("root", password=PASSWORD))
        response = staff.post(
            f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"}
        )
        assert response.status_code == 302
        assert not User.objects.filter(pk=user.pk).exists()
        message.refresh_from_db()
        assert (message.author, message.author_name) == (None, DELETED_AUTHOR_NAME)


class EmailFieldTests:
    def test_signing_up_with_an_address_keeps_it(
        self, client: Client, db: None
    ) -> None:
        client.post(
            "/accounts/signup/",
            {
                "username": "erin",
                "password1": "a-long-pass-123",
                "password2": "a-long-pass-123",
                "email": "erin@example.com",
            },
        )
        assert User.objects.get(username="erin").email == "erin@example.com"

    def test_the_profile_page_changes_the_address(
        self, user_client: Client, user: User
    ) -> None:
        page = user_client.get("/accounts/profile/")
        assert b'name="email"' in page.content
        response = user_client.post(
            "/accounts/profile/email/", {"email": "alice@example.com"}
        )
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.email == "alice@example.com"

    def test_a_malformed_address_shows_the_profile_again(
        self, user_client: Client, user: User
    ) -> None:
        response = user_client.post("/accounts/profile/email/", {"email": "nope"})
        assert response.status_code == 200
        assert response.context["email_form"].errors["email"]


class PasswordChangeViewTests:
    def test_the_new_password_works_and_other_sessions_end(
        self, user_client: Client, user: User
    ) -> None:
        other = logged_in(user)
        response = user_client.post(
            "/accounts/password/change/",
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        assert response.status_code == 302
        assert response["Location"] == "/accounts/profile/"
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert is_logged_in(user_client)
        assert not is_logged_in(other)

    def test_a_wrong_old_password_changes_nothing(
        self, user_client: Client, user: User
    ) -> None:
        response = user_client.post(
            "/accounts/password/change/",
            {
                "old_password": "wrong",
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors["old_password"]
        user.refresh_from_db()
        assert user.check_password(PASSWORD)

    def test_the_profile_page_links_to_every_step(self, user_client: Client) -> None:
        page = user_client.get("/accounts/profile/").content.decode()
        for url in (
            "/accounts/password/change/",
            "/accounts/profile/sessions/",
            "/accounts/profile/delete/",
        ):
            assert f'href="{url}"' in page
            assert user_client.get(url).status_code == 200


class SessionsEndViewTests:
    def test_a_wrong_password_is_refused(self, user_client: Client, user: User) -> None:
        other = logged_in(user)
        response = user_client.post("/accounts/profile/sessions/", {"password": "no"})
        assert response.status_code == 200
        assert response.context["form"].errors["password"]
        assert is_logged_in(other)

    def test_this_session_stays_and_the_others_end(
        self, user_client: Client, user: User
    ) -> None:
        others = [logged_in(user), logged_in(user)]
        response = user_client.post(
            "/accounts/profile/sessions/", {"password": PASSWORD}
        )
        assert response.status_code == 302
        assert is_logged_in(user_client)
        assert not any(is_logged_in(other) for other in others)
        user.refresh_from_db()
        assert user.check_password(PASSWORD)


class AccountDeleteViewTests:
    def test_a_wrong_password_is_refused(self, user_client: Client, user: User) -> None:
        response = user_client.post("/accounts/profile/delete/", {"password": "no"})
        assert response.status_code == 200
        assert response.context["form"].errors["password"]
        assert User.objects.filter(pk=user.pk).exists()

    def test_the_account_goes_and_its_messages_stay_as_a_deleted_users(
        self,
        user_client: Client,
        user: User,
        other_user: User,
        room: Room,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        message_create(room=room, author=user, text="before I go")
        shared, _ = attachment_create(
            room=room, author=user, upload=SimpleUploadedFile("c.png", image_bytes())
        )
        urls = [
            shared.attachment.get_absolute_url(),
            str(shared.attachment.get_thumbnail_url()),
        ]
        files = [shared.attachment.file.path, shared.attachment.thumbnail.path]
        other = logged_in(user)
        reader = logged_in(other_user)
        assert all(reader.get(url).status_code == 200 for url in urls)

        with django_capture_on_commit_callbacks(execute=True):
            response = user_client.post(
                "/accounts/profile/delete/", {"password": PASSWORD}
            )

        assert response.status_code == 302
        assert not User.objects.filter(username="alice").exists()
        assert not is_logged_in(user_client)
        assert not is_logged_in(other)
        for url in urls:
            assert reader.get(url).status_code == 404
        assert not any(Path(path).exists() for path in files)
        messages = reader.get(f"/api/rooms/{room.slug}/messages").json()["messages"]
        assert [m["author"] for m in messages] == [DELETED_AUTHOR_NAME] * 2
        assert [m["username"] for m in messages] == [None, None]
        assert [m["attachment"] for m in messages] == [None, None]
        assert messages[0]["text"] == "before I go"
        login = Client().post(
            "/accounts/login/", {"username": "alice", "password": PASSWORD}
        )
        assert login.status_code == 200
        assert "_auth_user_id" not in login.client.session

    def test_the_room_page_translates_the_deleted_users_name(
        self, client: Client, room: Room
    ) -> None:
        page = client.get(room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru")
        assert '"deletedUser": "удалённый пользователь"' in page.content.decode()


class PasswordResetTests:
    @pytest.fixture
    def known(self, user: User) -> User:
        user_set_email(user=user, email="alice@example.com")
        return user

    def ask(self, client: Client, email: str) -> Any:
        return client.post("/accounts/password/reset/", {"email": email}, follow=True)

    def test_known_and_unknown_addresses_get_the_same_answer(self, known: User) -> None:
        known_answer = self.ask(Client(), "alice@example.com")
        unknown_answer = self.ask(Client(), "nobody@example.com")
        assert known_answer.redirect_chain == unknown_answer.redirect_chain
        assert known_answer.status_code == unknown_answer.status_code == 200
        assert without_csrf(known_answer.content) == without_csrf(
            unknown_answer.content
        )
        emails_wait()
        assert [m.to for m in mail.outbox] == [["alice@example.com"]]

    def test_the_mailed_link_sets_a_new_password(
        self, client: Client, known: User
    ) -> None:
        other = logged_in(known)
        self.ask(client, "ALICE@example.com")
        emails_wait()
        [sent] = mail.outbox
        link = re.search(
            r"https?://[^/\s]+(/accounts/password/reset/\S+/)", str(sent.body)
        )
        assert link is not None
        assert "alice" in sent.body
        form = client.get(link.group(1), follow=True)
        assert form.context["validlink"] is True
        done = client.post(
            form.redirect_chain[-1][0],
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            follow=True,
        )
        assert done.redirect_chain[-1][0] == "/accounts/password/reset/done/"
        assert not is_logged_in(other)
        assert client.login(username="alice", password=NEW_PASSWORD)
        assert client.get(link.group(1), follow=True).context["validlink"] is False

    def test_past_the_limit_nothing_is_sent_and_the_answer_is_the_same(
        self, known: User, settings: Any
    ) -> None:
        settings.RATE_LIMITS = True
        settings.RATE_LIMIT_PASSWORD_RESET = "2/3600"
        answers = [self.ask(Client(), "alice@example.com") for _ in range(4)]
        emails_wait()
        assert len(mail.outbox) == 2
        first = without_csrf(answers[0].content)
        assert all(without_csrf(a.content) == first for a in answers)
        assert {a.status_code for a in answers} == {200}

    def test_one_client_cannot_mail_many_addresses(
        self, make_user: Any, settings: Any
    ) -> None:
        settings.RATE_LIMITS = True
        settings.RATE_LIMIT_PASSWORD_RESET = "2/3600"
        for n in range(4):
            user_set_email(user=make_user(f"user{n}"), email=f"u{n}@example.com")
        prober = Client(REMOTE_ADDR="203.0.113.9")
        for n in range(4):
            assert self.ask(prober, f"u{n}@example.com").status_code == 200
        self.ask(Client(REMOTE_ADDR="198.51.100.7"), "u3@example.com")
        emails_wait()
        assert [m.to for m in mail.outbox] == [
            ["u0@example.com"],
            ["u1@example.com"],
            ["u3@example.com"],
        ]

    def test_the_login_page_links_to_the_reset(self, client: Client, db: None) -> None:
        page = client.get("/accounts/login/").content.decode()
        assert 'href="/accounts/password/reset/"' in page
