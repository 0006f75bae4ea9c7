"""Whether the login behind a socket holds, checked at most a second ago."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from accounts import sessions
from accounts.models import User
from accounts.sessions import RecentLogins, recent_logins

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> tuple[Client, str]:
    """Log ``user`` in; return the client and the session's login key."""
    client = Client()
    client.force_login(user)
    return client, client.session.session_key or ""


class Clock:
    """The time a RecentLogins sees, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class RecentLoginsTests:
    def test_a_login_checked_a_moment_ago_is_not_asked_of_the_database_again(
        self, user: User, django_assert_num_queries
    ) -> None:
        _client, key = logged_in(user)
        recent = RecentLogins()
        assert recent.live({key})[key].user == user
        with django_assert_num_queries(0):
            assert recent.live({key})[key].user == user

    def test_a_login_that_ended_elsewhere_is_refused_once_its_check_is_old(
        self, user: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sessions, "LOGIN_RECHECK_SECONDS", 0.2)
        _client, key = logged_in(user)
        recent = RecentLogins()
        assert key in recent.live({key})
        # Deactivated by another process: nothing tells this one.
        User.objects.filter(pk=user.pk).update(is_active=False)
        assert key in recent.live({key})  # Within the window.
        time.sleep(0.25)
        assert recent.live({key}) == {}

    def test_the_checks_due_soon_are_made_with_one_that_is_due(
        self, user: User, other_user: User, django_assert_num_queries
    ) -> None:
        recent = RecentLogins(clock=(clock := Clock()))
        first, second = logged_in(user)[1], logged_in(other_user)[1]
        recent.live({first})
        clock.now = 0.4
        recent.live({second})
        clock.now = 1.2  # The first is due; the second would be at 1.4.
        with django_assert_num_queries(2):  # Sessions, users: for both.
            assert recent.live({first})[first].user == user
        clock.now = 1.7
        with django_assert_num_queries(0):
            assert recent.live({second})[second].user == other_user

    def test_a_login_used_within_the_second_is_checked_along_when_due(
        self, user: User, other_user: User, django_assert_num_queries
    ) -> None:
        recent = RecentLogins(clock=(clock := Clock()))
        first, second = logged_in(user)[1], logged_in(other_user)[1]
        recent.live({first})
        clock.now = 0.1
        recent.live({second})
        clock.now = 0.9
        recent.live({second})
        clock.now = 1.15  # Both are due: the first is asked for.
        recent.live({first})
        clock.now = 1.6
        with django_assert_num_queries(0):
            assert recent.live({second})[second].user == other_user

    def test_a_login_not_used_for_a_second_is_not_checked_along(
        self, user: User, django_assert_num_queries
    ) -> None:
        recent = RecentLogins(clock=(clock := Clock()))
        quiet = logged_in(user)[1]
        recent.live({quiet})
        clock.now = 0.6
        recent.live({logged_in(user)[1]})  # Checks the quiet one along.
        clock.now = 1.2
        recent.live({logged_in(user)[1]})  # Not any more: unused for 1.2 s.
        clock.now = 1.7
        with django_assert_num_queries(2):
            assert quiet in recent.live({quiet})

    def test_a_logout_here_is_refused_at_once(self, user: User) -> None:
        client, key = logged_in(user)
        assert key in recent_logins.live({key})
        client.logout()  # Deletes the session.
        assert recent_logins.live({key}) == {}

    def test_forgetting_every_login_checks_them_all_again(self, user: User) -> None:
        _client, key = logged_in(user)
        recent = RecentLogins()
        assert key in recent.live({key})
        User.objects.filter(pk=user.pk).update(is_active=False)
        recent.forget()
        assert recent.live({key}) == {}

    def test_a_new_name_saved_here_shows_on_the_next_check(self, user: User) -> None:
        _client, key = logged_in(user)
        assert recent_logins.live({key})[key].user.display_name == user.display_name
        user.display_name = "Someone Else"
        user.save(update_fields=["display_name"])
        assert recent_logins.live({key})[key].user.display_name == "Someone Else"
