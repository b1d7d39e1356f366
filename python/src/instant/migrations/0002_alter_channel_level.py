# django-instant's 0002 (level defaults to superuser), unchanged.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("instant", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="channel",
            name="level",
            field=models.CharField(
                choices=[
                    ("public", "Public"),
                    ("users", "Users"),
                    ("groups", "Groups"),
                    ("staff", "Staff"),
                    ("superuser", "Superuser"),
                ],
                default="superuser",
                max_length=20,
                verbose_name="Authorized for",
            ),
        ),
    ]
