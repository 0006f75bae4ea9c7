"""How long a socket's login check is believed (accounts.sessions.recent_logins)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts import sessions
from accounts.models import User
from accounts.sessions import forget_logins, recent_logins

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(user: User) -> str:
    client = Client()
    client.force_login(user)
    assert client.session.session_key is not None
    return client.session.session_key


@pytest.fixture(autouse=True)
def short_belief(monkeypatch: pytest.MonkeyPatch) -> None:
    forget_logins()
    monkeypatch.setattr(sessions, "RECHECK_SECONDS", 0.3)


class RecentLoginTests:
    def test_a_login_that_ended_elsewhere_posts_for_at_most_the_recheck_time(
        self, key: str, user: User
    ) -> None:
        assert recent_logins({key})[key].user == user
        # Deleted as another process's logout would: this process hears nothing.
        Session.objects.filter(session_key=key).delete()
        checked = time.monotonic()
        while recent_logins({key}):
            assert time.monotonic() - checked < sessions.RECHECK_SECONDS
            time.sleep(0.02)
        assert time.monotonic() - checked < sessions.RECHECK_SECONDS + 0.1

    def test_a_believed_login_costs_no_query(
        self, key: str, django_assert_num_queries: Any
    ) -> None:
        recent_logins({key})
        with django_assert_num_queries(0):
            assert key in recent_logins({key})

    def test_a_logout_in_this_process_ends_it_at_once(self, user: User) -> None:
        client = Client()
        client.force_login(user)
        key = client.session.session_key
        assert key is not None
        assert key in recent_logins({key})
        client.logout()
        assert recent_logins({key}) == {}

    def test_a_change_of_the_user_is_seen_at_once(self, key: str, user: User) -> None:
        assert recent_logins({key})[key].user.display_name == "Alice"
        user.display_name = "Alice B."
        user.save(update_fields=["display_name"])
        assert recent_logins({key})[key].user.display_name == "Alice B."
        user.is_active = False
        user.save(update_fields=["is_active"])
        assert recent_logins({key}) == {}

    def test_the_check_the_logins_event_forgets_every_login(self, key: str) -> None:
        assert key in recent_logins({key})
        Session.objects.filter(session_key=key).delete()
        forget_logins()  # What every hub does when the event comes.
        assert recent_logins({key}) == {}
