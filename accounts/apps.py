from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.sessions.models import Session
        from django.db.models.signals import post_delete, post_save

        from accounts.models import User
        from accounts.sessions import session_deleted, user_saved

        post_delete.connect(
            session_deleted, sender=Session, dispatch_uid="accounts.session_deleted"
        )
        post_save.connect(user_saved, sender=User, dispatch_uid="accounts.user_saved")
