"""Seed the escalation ladder (小区 → 社区 → 街道 → 区) and default deadlines. Admins edit both afterwards.

Defaults follow common 12345 practice: triage and acceptance within hours of office time, resolution in
working days; urgent safety categories in hours. Higher levels get more time (they take the hard cases).
"""

from decimal import Decimal

from django.db import migrations

LADDER = [("estate", "小区", 10), ("community", "社区", 20), ("street", "街道", 30), ("district", "区", 40)]

# (kind or "", category code or "", level or "", triage h, accept h, resolve amount, unit, note)
POLICIES = [
    ("", "", "", 4, 4, 5, "days", "兜底:梳理、接单各4个工作小时,5个工作日内办结"),
    ("complaint", "", "", 4, 4, 5, "days", "投诉:5个工作日"),
    ("complaint", "", "street", 4, 4, 7, "days", "投诉升级到街道:7个工作日"),
    ("complaint", "", "district", 4, 4, 10, "days", "投诉升级到区:10个工作日"),
    ("help", "", "", 2, 2, 3, "days", "求助:3个工作日"),
    ("inquiry", "", "", 4, 4, 2, "days", "咨询:2个工作日内答复"),
    ("suggestion", "", "", 8, 8, 10, "days", "建议:10个工作日内回复"),
    ("tip_off", "", "", 4, 4, 7, "days", "举报:7个工作日"),
    ("praise", "", "", 8, 8, 3, "days", "表扬:3个工作日内转达"),
    ("agency", "", "", 4, 4, 5, "days", "代办:5个工作日"),
    ("", "elderly.emergency", "", 0.5, 0.5, 4, "hours", "独居老人紧急求助:4个工作小时"),
    ("", "utility.gas", "", 0.5, 0.5, 4, "hours", "燃气故障:4个工作小时"),
    ("", "road.manhole", "", 1, 1, 1, "days", "井盖缺失:1个工作日"),
    ("", "fire.passage", "", 1, 1, 1, "days", "消防通道堵塞:1个工作日"),
    ("", "utility.water", "", 1, 1, 1, "days", "停水:1个工作日"),
    ("", "utility.power", "", 1, 1, 1, "days", "停电:1个工作日"),
]


def seed(apps, schema_editor):
    EscalationLevel = apps.get_model("cases", "EscalationLevel")
    SlaPolicy = apps.get_model("cases", "SlaPolicy")
    Category = apps.get_model("cases", "Category")
    for code, name, rank in LADDER:
        EscalationLevel.objects.get_or_create(code=code, defaults={"name": name, "rank": rank})
    categories = dict(Category.objects.values_list("code", "id"))
    for kind, cat, level, triage, accept, resolve, unit, note in POLICIES:
        if cat and cat not in categories:
            continue
        SlaPolicy.objects.get_or_create(
            kind=kind,
            category_id=categories.get(cat) if cat else None,
            level=level,
            defaults={
                "triage_hours": Decimal(str(triage)),
                "accept_hours": Decimal(str(accept)),
                "resolve_amount": Decimal(str(resolve)),
                "resolve_unit": unit,
                "warn_fraction": Decimal("0.80"),
                "note": note,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("cases", "SlaPolicy").objects.all().delete()
    apps.get_model("cases", "EscalationLevel").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_seed_categories")]
    operations = [migrations.RunPython(seed, unseed)]
