"""Encrypt the contact phones that cases stored in plain text before 0005, and fill their blind index (PI-1).

Raw SQL, in primary-key batches: the model field would try to decrypt the plain values it reads. Rows that
already hold a ciphertext (written after 0005, or a second run) are left alone, so the migration is
idempotent. Reversible: the reverse decrypts back to plain text and clears the index, so that reversing
0005 next can narrow the column to 20 characters again.
"""

from django.db import migrations

TABLE = "cases_case"
CONTEXT = f"{TABLE}.contact_phone"  # EncryptedTextField.crypto_context: the ciphertext opens only here
BATCH = 1000


def _batches(cursor):
    last = 0
    while True:
        cursor.execute(
            f"SELECT id, contact_phone FROM {TABLE} WHERE id > %s AND contact_phone <> '' "  # noqa: S608
            "ORDER BY id LIMIT %s",
            [last, BATCH],
        )
        rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def encrypt(apps, schema_editor):
    from linli.security import crypto

    with schema_editor.connection.cursor() as cursor:
        for rows in _batches(cursor):
            updates = [
                (crypto.encrypt(phone, context=CONTEXT), crypto.blind_index("phone", phone), pk)
                for pk, phone in rows
                if not crypto.is_ciphertext(phone)
            ]
            if updates:
                cursor.executemany(
                    f"UPDATE {TABLE} SET contact_phone = %s, contact_phone_index = %s WHERE id = %s",  # noqa: S608
                    updates,
                )


def decrypt(apps, schema_editor):
    from linli.security import crypto

    with schema_editor.connection.cursor() as cursor:
        for rows in _batches(cursor):
            updates = [
                (crypto.decrypt(phone, context=CONTEXT), pk)
                for pk, phone in rows
                if crypto.is_ciphertext(phone)
            ]
            if updates:
                cursor.executemany(
                    f"UPDATE {TABLE} SET contact_phone = %s, contact_phone_index = '' WHERE id = %s",  # noqa: S608
                    updates,
                )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_case_contact_phone_encrypted"),
    ]

    operations = [migrations.RunPython(encrypt, decrypt)]
