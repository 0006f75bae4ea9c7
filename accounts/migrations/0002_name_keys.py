"""
Make usernames and display names unique once folded (accounts.validators.fold).

Existing users who share a folded name stop the migration with a message that
names them and the command that renames them (accounts/management/commands/
rename_user.py works before this migration too).
"""

import django.db.models.deletion
from django.conf import settings
from django.core.management.base import CommandError
from django.db import migrations, models

import accounts.models
from accounts.validators import (
    NameHolder,
    describe_collisions,
    fold,
    name_collisions,
    name_keys,
)

COLLISIONS = """\
Usernames and display names must now be unique once case, width and spacing
are ignored, and these users share a name:
%s
Give all but one user of each line another username or display name, then
migrate again. For example:
  python manage.py rename_user %s --username NEW --display-name NEW
(rename_user USERNAME [--username NEW] [--display-name NEW]; either option
alone is fine.)"""


def fill_name_keys(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    NameClaim = apps.get_model("accounts", "NameClaim")
    users = User.objects.using(schema_editor.connection.alias)
    holders = [
        NameHolder(*row) for row in users.values_list("id", "username", "display_name")
    ]
    collisions = name_collisions(holders)
    if collisions:
        example = next(iter(collisions.values()))[-1].username
        # A CommandError makes `manage.py migrate` print only the message.
        raise CommandError(COLLISIONS % (describe_collisions(collisions), repr(example)))
    users.bulk_update(
        [User(id=h.id, username_key=fold(h.username)) for h in holders],
        ["username_key"],
        batch_size=500,
    )
    NameClaim.objects.using(schema_editor.connection.alias).bulk_create(
        [
            NameClaim(user_id=h.id, key=key)
            for h in holders
            for key in name_keys(h.username, h.display_name)
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelManagers(
            name="user",
            managers=[
                ("objects", accounts.models.UserManager()),
            ],
        ),
        migrations.AddField(
            model_name="user",
            name="username_key",
            field=models.CharField(editable=False, max_length=450, null=True),
        ),
        migrations.CreateModel(
            name="NameClaim",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=450, unique=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="name_claims", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "verbose_name": "name claim",
                "verbose_name_plural": "name claims",
            },
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="username_key",
            field=models.CharField(editable=False, max_length=450, unique=True),
        ),
    ]
