"""Data: encrypt existing plaintext phones, fill their blind indexes, take the phone out of resident
usernames ("r13800138000" -> "r<random>"), and index the phones of pending SMS codes.

Raw SQL on purpose: the historical model's field would try to decrypt the plaintext it is converting.
Idempotent (values that are already ciphertext are skipped). The reverse decrypts phones back to
plaintext; usernames stay random (0004's reversal drops pending SMS codes: only their hash survives).
"""

import secrets

from django.db import migrations

from linli.security import crypto

BATCH = 1000


def _rows(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchall()


def encrypt_phones(apps, schema_editor):
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    user = apps.get_model("accounts", "User")
    table = qn(user._meta.db_table)
    context = user._meta.get_field("phone").crypto_context
    with connection.cursor() as cursor:
        last = 0
        while True:
            rows = _rows(
                cursor,
                f"SELECT id, phone, username FROM {table} WHERE id > %s ORDER BY id LIMIT {BATCH}",  # noqa: S608
                [last],
            )
            if not rows:
                break
            for pk, phone, username in rows:
                if not phone or crypto.is_ciphertext(phone):
                    continue
                new_username = f"r{secrets.token_hex(8)}" if username == f"r{phone}" else username
                cursor.execute(
                    f"UPDATE {table} SET phone = %s, phone_index = %s, username = %s WHERE id = %s",  # noqa: S608
                    [
                        crypto.encrypt(phone, context=context),
                        crypto.blind_index("phone", phone),
                        new_username,
                        pk,
                    ],
                )
            last = rows[-1][0]
        codes = qn(apps.get_model("accounts", "PhoneCode")._meta.db_table)
        for pk, phone in _rows(cursor, f"SELECT id, phone FROM {codes} WHERE phone_index = ''"):  # noqa: S608
            cursor.execute(
                f"UPDATE {codes} SET phone_index = %s WHERE id = %s",  # noqa: S608
                [crypto.blind_index("phone", phone), pk],
            )


def decrypt_phones(apps, schema_editor):
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    user = apps.get_model("accounts", "User")
    table = qn(user._meta.db_table)
    context = user._meta.get_field("phone").crypto_context
    with connection.cursor() as cursor:
        for pk, phone in _rows(cursor, f"SELECT id, phone FROM {table} WHERE phone <> ''"):  # noqa: S608
            if crypto.is_ciphertext(phone):
                cursor.execute(
                    f"UPDATE {table} SET phone = %s, phone_index = '' WHERE id = %s",  # noqa: S608
                    [crypto.decrypt(phone, context=context), pk],
                )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_phone_encrypted"),
    ]

    operations = [
        migrations.RunPython(encrypt_phones, decrypt_phones),
    ]
