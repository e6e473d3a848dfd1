"""Data: the 分类分色 categories (seed 002) with their legal basis, and the red / yellow / green levels
with their default visit intervals. Both tables stay admin-editable; re-running changes nothing."""

from django.db import migrations

PIPL = "个人信息保护法第十三条第一款第三项(履行法定职责所必需)、第二十八条(敏感个人信息)"
CATEGORIES = [
    # code, name, description, basis, reference, sort
    ("alone-elderly", "独居老人", "独自居住的老年人", "为独居老年人提供探访、生活照料和紧急救援等居家养老服务", "《中华人民共和国老年人权益保障法》;" + PIPL, 10),
    ("advanced-age", "高龄老人", "80周岁以上老年人", "高龄津贴发放与高龄老年人关爱服务", "《中华人民共和国老年人权益保障法》;" + PIPL, 20),
    ("disabled-elderly", "失能半失能", "生活不能或部分不能自理的老年人", "失能、半失能老年人照护与探访服务", "《中华人民共和国老年人权益保障法》;" + PIPL, 30),
    ("disability", "残疾人", "持证残疾人", "残疾人社会保障、康复和帮扶服务", "《中华人民共和国残疾人保障法》;" + PIPL, 40),
    ("serious-illness", "重病患者", "患重特大疾病的居民", "医疗救助与临时救助的主动发现和帮扶", "《社会救助暂行办法》(医疗救助、临时救助);" + PIPL, 50),
    ("subsistence", "低保/特困", "最低生活保障对象、特困供养人员", "最低生活保障与特困人员救助供养的动态管理和探访", "《社会救助暂行办法》、《最低生活保障审核确认办法》、《特困人员认定办法》;" + PIPL, 60),
    ("left-behind-child", "留守儿童", "父母双方外出务工或一方外出另一方无监护能力的未成年人", "留守儿童关爱保护与监护情况探访", "《国务院关于加强农村留守儿童关爱保护工作的意见》、《中华人民共和国未成年人保护法》;" + PIPL, 70),
    ("child-in-difficulty", "困境儿童", "因家庭经济贫困、自身残疾或监护缺失陷入困境的儿童", "困境儿童分类保障与探访", "《国务院关于加强困境儿童保障工作的意见》、《中华人民共和国未成年人保护法》;" + PIPL, 80),
    ("veteran-care", "优抚对象", "享受抚恤优待的退役军人、烈士遗属等", "优抚对象走访慰问与帮扶", "《军人抚恤优待条例》、《中华人民共和国退役军人保障法》;" + PIPL, 90),
]
LEVELS = [
    ("red", "红色", 7, "独居失能、重病、无人照料等需重点关注,每周走访", 10),
    ("yellow", "黄色", 30, "高龄、残疾、低保等需定期关注,每月走访", 20),
    ("green", "绿色", 90, "基本能自理、有家人照料,每季度走访", 30),
]


def seed(apps, schema_editor):
    CareCategory = apps.get_model("people", "CareCategory")
    CareLevel = apps.get_model("people", "CareLevel")
    for code, name, description, basis, reference, sort in CATEGORIES:
        CareCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "legal_basis": basis,
                "legal_reference": reference,
                "retention_days": 3 * 365,
                "sort_order": sort,
            },
        )
    for code, name, days, description, sort in LEVELS:
        CareLevel.objects.get_or_create(
            code=code,
            defaults={"name": name, "visit_interval_days": days, "description": description, "sort_order": sort},
        )


def unseed(apps, schema_editor):
    apps.get_model("people", "CareCategory").objects.filter(code__in=[c[0] for c in CATEGORIES], records__isnull=True).delete()
    apps.get_model("people", "CareLevel").objects.filter(code__in=[level[0] for level in LEVELS], records__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("people", "0001_households_care_stewards")]
    operations = [migrations.RunPython(seed, unseed)]
