"""Fill the blind index of the outbox phones that were stored before 0004 added it (PI-1).

Raw SQL, in primary-key batches; the phones are ciphertext already (0003), decrypted here only to compute
their index. Idempotent (recomputes the same value). One-way on purpose: the reverse is a no-op, because
reversing 0004 next drops the index column altogether.
"""

from django.db import migrations

TABLE = "notifications_outboxmessage"
CONTEXT = f"{TABLE}.phone"  # EncryptedTextField.crypto_context
BATCH = 1000


def fill(apps, schema_editor):
    from linli.security import crypto

    last = 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT id, phone FROM {TABLE} WHERE id > %s AND phone <> '' ORDER BY id LIMIT %s",  # noqa: S608
                [last, BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            last = rows[-1][0]
            updates = []
            for pk, phone in rows:
                plain = crypto.decrypt(phone, context=CONTEXT) if crypto.is_ciphertext(phone) else phone
                updates.append((crypto.blind_index("phone", plain), pk))
            cursor.executemany(f"UPDATE {TABLE} SET phone_index = %s WHERE id = %s", updates)  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_outbox_phone_index"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
