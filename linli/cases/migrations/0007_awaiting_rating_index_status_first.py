# case_awaiting_rating leads with status, so SQLite's planner prefers it to case_resolved_at for the
# auto-close sweep.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_encrypt_case_contact_phones"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="case",
            name="case_awaiting_rating",
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status", "resolved")),
                fields=["status", "resolved_at"],
                name="case_awaiting_rating",
            ),
        ),
    ]
