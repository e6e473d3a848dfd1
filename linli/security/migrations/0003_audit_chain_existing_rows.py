"""Chain the rows written before the hash chain existed (in id order) and create the chain head."""

from django.db import migrations


def chain_existing_rows(apps, schema_editor):
    from linli.security.audit import audit_keys, head_mac, row_hash

    AuditEvent = apps.get_model("security", "AuditEvent")
    AuditChainHead = apps.get_model("security", "AuditChainHead")
    using = schema_editor.connection.alias
    keys = audit_keys()
    key = keys.keys[keys.active_id]
    prev, seq = "0" * 64, 0
    columns = (
        "id", "created_at", "actor_id", "actor_label", "role", "ip", "action", "result",
        "object_type", "object_id", "request_id", "data",
    )
    for row in AuditEvent.objects.using(using).order_by("id").values(*columns).iterator(chunk_size=2000):
        seq += 1
        row.update(seq=seq, key_id=keys.active_id, prev_hash=prev)
        digest = row_hash(row, key)
        AuditEvent.objects.using(using).filter(pk=row["id"]).update(
            seq=seq, key_id=keys.active_id, prev_hash=prev, hash=digest
        )
        prev = digest
    head = AuditChainHead(pk=1, last_seq=seq, last_hash=prev, genesis_seq=0, genesis_hash="0" * 64)
    head.key_id = keys.active_id
    head.mac = head_mac(head, key)
    head.save(using=using)


def drop_head(apps, schema_editor):
    apps.get_model("security", "AuditChainHead").objects.using(schema_editor.connection.alias).all().delete()


class Migration(migrations.Migration):
    dependencies = [("security", "0002_audit_chain")]

    operations = [migrations.RunPython(chain_existing_rows, drop_head)]
