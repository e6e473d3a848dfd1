"""Schema: drop PhoneCode's plaintext phone; one account per phone through the blind index."""

from django.db import migrations, models


def drop_pending_codes(apps, schema_editor):
    # Reversal only: the plaintext column comes back empty-handed (codes live 5 minutes; only a hash of
    # the phone was kept), so pending codes are dropped rather than left with no phone.
    apps.get_model("accounts", "PhoneCode").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_phone_encrypt_data"),
    ]

    operations = [
        migrations.RemoveField(model_name="phonecode", name="phone"),
        # Listed after RemoveField so that, when reversing, it runs before the column is re-added.
        migrations.RunPython(migrations.RunPython.noop, drop_pending_codes),
        migrations.AddIndex(
            model_name="phonecode",
            index=models.Index(fields=["phone_index", "-created_at"], name="phonecode_index_recent"),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                condition=models.Q(("phone_index", ""), _negated=True),
                fields=("phone_index",),
                name="user_phone_index_unique",
            ),
        ),
    ]
