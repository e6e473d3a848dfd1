"""PostgreSQL only: the database refuses overlapping bookings of one room.

``EXCLUDE USING gist (resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)`` among bookings
that hold the room (pending or confirmed — ``models.HOLDS_ROOM``). Half-open ranges: a booking ending at
10:00 and the next starting at 10:00 do not overlap. ``btree_gist`` lets the gist index compare the room
id with ``=``; creating the extension needs the CREATE privilege on the database (a DBA may create it
beforehand; ``IF NOT EXISTS`` then skips it).

SQLite has no exclusion constraints: there the service's overlap check runs inside an IMMEDIATE
transaction (the write lock is held from the check to the insert), see ``services/resources.py``. The
constraint is not in the model's Meta (Django would try to create it on SQLite too), so this migration is
the one place that defines it.
"""

from django.db import migrations

CONSTRAINT = "room_booking_no_overlap"


def add_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("bookings", "RoomBooking")._meta.db_table
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
        "(resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        "WHERE (status IN ('pending', 'confirmed'))"
    )


def drop_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("bookings", "RoomBooking")._meta.db_table
    schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_appointments_window_agency_resources")]

    operations = [migrations.RunPython(add_exclusion, drop_exclusion)]
