from __future__ import annotations

from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate

from chat.checks import allowed_hosts_check, proxy_check


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        # Not tagged for deployment only: `manage.py serve` prints it too.
        checks.register(allowed_hosts_check, checks.Tags.security)
        checks.register(proxy_check, checks.Tags.security)
        from chat.search.engines import reinstall

        post_migrate.connect(reinstall, sender=self)
