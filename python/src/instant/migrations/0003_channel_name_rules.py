# instant's changes over django-instant's schema: channels are listed by name, names are validated
# (ASCII, no spaces: what the server accepts), and the help text tells how private names are made.
# No column changes.
import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("instant", "0002_alter_channel_level"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="channel",
            options={"ordering": ["name"], "verbose_name": "Channel", "verbose_name_plural": "Channels"},
        ),
        migrations.AlterField(
            model_name="channel",
            name="name",
            field=models.CharField(
                help_text="Non public channels are made private with a $ prefix on save: ex: $private_chan, $namespace:chan",
                max_length=120,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[\\x21-\\x7e]+$",
                        "Channel names are ASCII letters, digits and punctuation, without spaces.",
                        code="invalid_channel",
                    )
                ],
                verbose_name="Name",
            ),
        ),
    ]
