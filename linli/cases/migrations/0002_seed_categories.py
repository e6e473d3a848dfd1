"""Seed the category catalogue (22 groups, 80+ leaves). Admins edit it afterwards; codes are Open311 services.

The data lives here, not imported from app code, so this migration means the same thing forever.
"""

from django.db import migrations

# (group code, group name, [(leaf code suffix, leaf name, default kind)])
CATALOGUE = [
    ("city", "市容环境", [
        ("litter", "暴露垃圾/乱扔垃圾", "complaint"),
        ("ads", "小广告/乱贴乱画", "complaint"),
        ("stall", "占道经营/流动摊贩", "complaint"),
        ("debris", "渣土/建筑垃圾乱倒", "complaint"),
        ("hanging", "乱拉乱挂/沿街晾晒", "complaint"),
    ]),
    ("property", "物业管理", [
        ("service", "物业服务质量", "complaint"),
        ("elevator", "电梯故障", "complaint"),
        ("fee", "物业收费", "inquiry"),
        ("security", "门岗安保/出入管理", "complaint"),
        ("repair", "公共部位维修", "complaint"),
        ("leak", "房屋漏水渗水", "help"),
    ]),
    ("road", "路灯/井盖/道路", [
        ("streetlight", "路灯不亮/损坏", "complaint"),
        ("manhole", "井盖缺失/破损", "complaint"),
        ("pothole", "路面坑洼破损", "complaint"),
        ("sidewalk", "人行道/盲道破损", "complaint"),
        ("barrier", "护栏/交通标志损坏", "complaint"),
    ]),
    ("drain", "排水/下水道", [
        ("blocked", "下水道堵塞", "complaint"),
        ("sewage", "污水外溢", "complaint"),
        ("waterlogging", "路面积水", "complaint"),
    ]),
    ("noise", "噪音", [
        ("construction", "施工噪音", "complaint"),
        ("commercial", "商业经营噪音", "complaint"),
        ("neighbor", "邻里生活噪音", "complaint"),
        ("square_dance", "广场舞/娱乐噪音", "complaint"),
    ]),
    ("fire", "消防安全", [
        ("passage", "消防通道堵塞", "complaint"),
        ("ebike", "电动车楼道停放/飞线充电", "tip_off"),
        ("equipment", "消防设施损坏", "complaint"),
        ("hazard", "其他火灾隐患", "tip_off"),
    ]),
    ("dispute", "邻里纠纷", [
        ("neighbor", "邻里矛盾", "help"),
        ("family", "家庭纠纷", "help"),
        ("rent", "房屋租赁纠纷", "help"),
        ("pet", "宠物扰民/不文明养犬", "complaint"),
    ]),
    ("illegal_build", "违章搭建", [
        ("rooftop", "楼顶/露台违建", "tip_off"),
        ("occupy", "圈占公共空间", "tip_off"),
        ("renovation", "违规装修/破坏承重结构", "tip_off"),
    ]),
    ("parking", "停车", [
        ("illegal", "乱停乱放", "complaint"),
        ("space", "车位被占/私装地锁", "complaint"),
        ("bike", "非机动车停放", "complaint"),
        ("zombie", "僵尸车", "complaint"),
    ]),
    ("waste", "垃圾分类", [
        ("overflow", "垃圾桶满溢", "complaint"),
        ("sorting", "分类投放不规范", "suggestion"),
        ("bulky", "大件/装修垃圾清运", "help"),
        ("collection", "垃圾清运不及时", "complaint"),
    ]),
    ("elderly", "养老服务", [
        ("meal", "老年助餐", "help"),
        ("home_care", "居家养老上门服务", "agency"),
        ("emergency", "独居老人紧急求助", "help"),
        ("allowance", "高龄津贴办理", "agency"),
    ]),
    ("welfare", "社会保障", [
        ("assistance", "低保/特困救助", "agency"),
        ("medical_insurance", "城乡居民医保", "inquiry"),
        ("pension", "养老保险", "inquiry"),
        ("disability", "残疾人服务", "agency"),
    ]),
    ("health", "医疗卫生", [
        ("clinic", "社区卫生服务", "inquiry"),
        ("vaccine", "疫苗接种", "inquiry"),
        ("pests", "病媒生物/卫生死角", "complaint"),
    ]),
    ("utility", "供水供电供气", [
        ("water", "停水/水压低/水质", "complaint"),
        ("power", "停电/线路故障", "complaint"),
        ("gas", "燃气故障/燃气异味", "help"),
        ("heating", "供暖/热水", "complaint"),
    ]),
    ("greening", "园林绿化", [
        ("trimming", "树木修剪", "suggestion"),
        ("damage", "绿地损毁/毁绿种菜", "complaint"),
        ("fallen_tree", "树木倒伏/断枝", "complaint"),
    ]),
    ("safety", "公共安全", [
        ("order", "治安隐患", "tip_off"),
        ("fraud", "电信诈骗线索", "tip_off"),
        ("facility", "公共设施安全隐患", "complaint"),
    ]),
    ("education", "教育", [
        ("enrollment", "入学咨询", "inquiry"),
        ("training", "校外培训", "complaint"),
        ("childcare", "托育服务", "inquiry"),
    ]),
    ("employment", "劳动就业", [
        ("wage", "拖欠工资", "help"),
        ("jobs", "就业援助", "help"),
        ("skills", "职业技能培训", "inquiry"),
    ]),
    ("market", "市场监管/食品安全", [
        ("food", "食品安全", "tip_off"),
        ("price", "价格欺诈", "complaint"),
        ("unlicensed", "无证经营", "tip_off"),
        ("quality", "产品质量", "complaint"),
    ]),
    ("traffic", "交通出行", [
        ("bus", "公交线路/站点", "suggestion"),
        ("signal", "信号灯故障", "complaint"),
        ("congestion", "交通拥堵", "suggestion"),
    ]),
    ("pollution", "环境污染", [
        ("air", "大气/油烟污染", "complaint"),
        ("water", "河道/水体污染", "complaint"),
        ("dust", "扬尘污染", "complaint"),
        ("odor", "异味扰民", "complaint"),
    ]),
    ("general", "综合", [
        ("praise", "表扬", "praise"),
        ("suggestion", "意见建议", "suggestion"),
        ("agency", "其他代办事项", "agency"),
        ("other", "其他事项", "complaint"),
    ]),
]


def seed(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    for g_sort, (g_code, g_name, leaves) in enumerate(CATALOGUE, start=1):
        group, _ = Category.objects.get_or_create(
            code=g_code, defaults={"name": g_name, "sort": g_sort * 10, "default_kind": leaves[0][2]}
        )
        for l_sort, (suffix, name, kind) in enumerate(leaves, start=1):
            Category.objects.get_or_create(
                code=f"{g_code}.{suffix}",
                defaults={"name": name, "parent": group, "sort": l_sort, "default_kind": kind},
            )


def unseed(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    codes = [g for g, _, _ in CATALOGUE]
    Category.objects.filter(parent__code__in=codes).delete()
    Category.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
