from django.db import migrations


def create_general(apps, schema_editor):
    Room = apps.get_model("chat", "Room")
    Room.objects.get_or_create(slug="general", defaults={"name": "General"})


def remove_general(apps, schema_editor):
    Room = apps.get_model("chat", "Room")
    Room.objects.filter(slug="general", messages__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_initial")]

    operations = [migrations.RunPython(create_general, remove_general)]
