from django.db import migrations, models
from django.db.models import Max


def fill_last_message_id(apps, schema_editor):
    Room = apps.get_model("chat", "Room")
    for room in Room.objects.annotate(last=Max("messages__id")).exclude(last=None):
        Room.objects.filter(pk=room.pk).update(last_message_id=room.last)


class Migration(migrations.Migration):
    dependencies = [("chat", "0002_general_room")]

    operations = [
        migrations.AddField(
            model_name="room",
            name="last_message_id",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_last_message_id, migrations.RunPython.noop),
    ]
