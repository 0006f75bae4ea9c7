from django.db import migrations, models


def render_stored(apps, schema_editor):
    """Render the messages stored before formatting existed."""
    # The renderer of today: a migration that runs later renders as the code
    # it ships with does.
    from chat.formatting import render

    Message = apps.get_model("chat", "Message")
    batch = []
    for message in Message.objects.only("id", "text").iterator(chunk_size=2000):
        message.html = render(message.text).html
        batch.append(message)
        if len(batch) == 2000:
            Message.objects.bulk_update(batch, ["html"])
            batch = []
    Message.objects.bulk_update(batch, ["html"])


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0005_message_author_set_null"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="html",
            field=models.TextField(blank=True, editable=False, verbose_name="HTML"),
        ),
        migrations.RunPython(render_stored, migrations.RunPython.noop),
    ]
