from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("security", "0003_audit_chain_existing_rows")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(unique=True, verbose_name="链序号"),
        ),
    ]
