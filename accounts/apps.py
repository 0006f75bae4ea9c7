from typing import Any

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save

        from accounts.models import User

        # A login that ends or changes in this process is checked again on
        # the socket's next post, not up to a second later.
        user_logged_out.connect(_logged_out, dispatch_uid="accounts.forget_logout")
        for signal in (post_save, post_delete):
            signal.connect(_user_changed, sender=User, dispatch_uid="accounts.forget")


def _logged_out(sender: Any, request: Any, **kwargs: Any) -> None:
    from accounts.sessions import forget_logins

    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        forget_logins(key=key)


def _user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from accounts.sessions import forget_logins

    forget_logins(user_id=instance.pk)
