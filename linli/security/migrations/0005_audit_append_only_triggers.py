"""Triggers that refuse UPDATE and DELETE on the audit trail (and PostgreSQL's prune function).

The statements live in ``linli.security.audit_guard`` because ``post_migrate`` reinstalls the SQLite
triggers after any migration that rebuilds the table; this migration installs them the first time.
"""

from django.db import migrations


def install(apps, schema_editor):
    from linli.security.audit_guard import audit_guard_install

    audit_guard_install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from linli.security.audit_guard import audit_guard_uninstall

    audit_guard_uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("security", "0004_audit_seq_unique")]

    operations = [migrations.RunPython(install, uninstall)]
