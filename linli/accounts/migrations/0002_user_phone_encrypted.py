"""Schema: User.phone becomes an encrypted text column with a blind index; PhoneCode keeps only a blind
index of the phone. The data is converted in 0003; the old PhoneCode column and the new unique
constraint follow in 0004."""

import linli.security.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="user", name="user_phone_unique"),
        migrations.AlterField(
            model_name="user",
            name="phone",
            field=linli.security.fields.EncryptedTextField(blank=True, default="", verbose_name="手机号"),
        ),
        migrations.AddField(
            model_name="user",
            name="phone_index",
            field=linli.security.fields.BlindIndexField(kind="phone", source="phone"),
        ),
        migrations.RemoveIndex(model_name="phonecode", name="phonecode_phone_recent"),
        migrations.AddField(
            model_name="phonecode",
            name="phone_index",
            field=models.CharField(default="", max_length=32),
            preserve_default=False,
        ),
    ]
