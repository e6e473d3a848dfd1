"""Encrypt the phone numbers outbox rows stored in plain text before the column became encrypted (PI-1).
Raw SQL: the model field would try to decrypt the plain values it reads. Reversible (decrypts back)."""

from django.db import migrations

TABLE = "notifications_outboxmessage"
CONTEXT = f"{TABLE}.phone"  # EncryptedTextField.crypto_context: the ciphertext only opens in this column


def encrypt(apps, schema_editor):
    from linli.security import crypto

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, phone FROM {TABLE} WHERE phone <> ''")  # noqa: S608 - fixed name
        for pk, phone in cursor.fetchall():
            if not crypto.is_ciphertext(phone):
                sealed = crypto.encrypt(phone, context=CONTEXT)
                cursor.execute(f"UPDATE {TABLE} SET phone = %s WHERE id = %s", [sealed, pk])  # noqa: S608


def decrypt(apps, schema_editor):
    from linli.security import crypto

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, phone FROM {TABLE} WHERE phone <> ''")  # noqa: S608 - fixed name
        for pk, phone in cursor.fetchall():
            if crypto.is_ciphertext(phone):
                plain = crypto.decrypt(phone, context=CONTEXT)
                cursor.execute(f"UPDATE {TABLE} SET phone = %s WHERE id = %s", [plain, pk])  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_outbox_phone_encrypted"),
    ]

    operations = [migrations.RunPython(encrypt, decrypt)]
