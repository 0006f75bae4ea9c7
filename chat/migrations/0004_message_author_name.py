from django.db import migrations, models
from django.db.models import Case, F, OuterRef, Subquery, When


def fill_author_name(apps, schema_editor):
    Message = apps.get_model("chat", "Message")
    User = apps.get_model("accounts", "User")
    shown = User.objects.filter(pk=OuterRef("author_id")).annotate(
        shown=Case(When(display_name="", then=F("username")), default=F("display_name"))
    )
    Message.objects.filter(author_name="").update(
        author_name=Subquery(shown.values("shown")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("chat", "0003_room_last_message_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="author_name",
            field=models.CharField(blank=True, max_length=50, verbose_name="author's name"),
        ),
        migrations.RunPython(fill_author_name, migrations.RunPython.noop),
    ]
