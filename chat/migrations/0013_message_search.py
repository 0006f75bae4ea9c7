"""
Search: each message's normalised text, and the trigram index each engine
keeps over it (SQLite: an FTS5 table kept by triggers; PostgreSQL: pg_trgm
GIN). The texts already stored are normalised here.
"""

from django.db import migrations, models

from chat.search import engines
from chat.search.text import document

def normalise(apps, schema_editor):
    Message = apps.get_model("chat", "Message")
    Attachment = apps.get_model("chat", "Attachment")
    names = dict(Attachment.objects.values_list("message_id", "name"))
    stored = Message.objects.filter(deleted=False, member_action="").only("text")
    batch = []
    for message in stored.iterator(chunk_size=2000):
        message.search_text = document(message.text, names.get(message.pk, ""))
        batch.append(message)
        if len(batch) == 2000:
            Message.objects.bulk_update(batch, ["search_text"])
            batch = []
    Message.objects.bulk_update(batch, ["search_text"])


def create_index(apps, schema_editor):
    engines.install(schema_editor.connection)


def drop_index(apps, schema_editor):
    engines.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0012_message_notifies_room"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="search_text",
            field=models.TextField(
                blank=True, default="", editable=False, verbose_name="search text"
            ),
        ),
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(normalise, migrations.RunPython.noop),
    ]
