"""The personal-information registry: every personal-data field names its purpose and retention (PI-4).

A model declares its own fields::

    class Person(models.Model):
        pii_fields = {
            "id_number": PiiTag(category="id_number", purpose="核实身份", retention="迁出后3年", sensitive=True),
        }
        pii_exempt = {"name_pinyin_initial": "仅首字母,用于排序"}

Fields of models we do not define (``AbstractUser``'s) and cross-app decisions live in ``PII_FIELDS`` and
``NOT_PERSONAL`` below. ``untagged_personal_fields()`` walks every installed model and returns each field
that *looks* personal (``looks_personal``) but is neither tagged nor exempted; a test keeps it empty.

The heuristic, on the field name split at ``_`` (and the model name for a bare ``name``):
- phone: phone, mobile, tel, telephone, cellphone, contact
- identity: id_number, id_no, id_card, idcard, identity, certificate, passport, permit, ric, sfz
- address: address, addr, residence, domicile, room, house_number
- location of people: lat, lng, lon, latitude, longitude, location, gps, track, trace, coordinates, geom
- other contact: email, wechat, openid, unionid, ip, ip_address
- sensitive (PIPL art. 28): birth, birthday, dob, age, gender, sex, ethnicity, health, disease, disability,
  diagnosis, medical, income, poverty, religion, care_level, photo, face
- names: display_name, first_name, last_name, real_name, full_name, contact_name, *_name of a person
  word (reporter, resident, owner, applicant, contact, guardian, elder, member, volunteer, person), and a bare
  ``name`` on a model whose name says it is a person (Person, Resident, Member, Volunteer, Contact, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models


@dataclass(frozen=True)
class PiiTag:
    category: str  # phone, id_number, name, address, location, contact, health, ...; selects the masker
    purpose: str  # 处理目的 (PIPL art. 17), shown in the privacy notice
    retention: str  # 保存期限 in words, e.g. "账号注销后30天"; the retention job reads retention_days
    retention_days: int | None = None  # days after the end event named in ``retention``; None = see text
    sensitive: bool = False  # 敏感个人信息 (PIPL art. 28): separate consent, stricter access
    legal_basis: str = ""  # 处理依据, e.g. "履行法定职责" or "个人同意"


_ACCOUNT = "账号注销后30天"
# Fields on models whose class we do not write ourselves, and decisions that span apps.
PII_FIELDS: dict[tuple[str, str], PiiTag] = {
    ("accounts.User", "phone"): PiiTag(
        category="phone",
        purpose="登录验证与办事联系",
        retention=_ACCOUNT,
        retention_days=30,
        legal_basis="个人同意(注册时)",
    ),
    ("accounts.User", "phone_index"): PiiTag(
        category="phone",
        purpose="按手机号精确查找账号(密钥哈希,不可逆)",
        retention=_ACCOUNT,
        retention_days=30,
        legal_basis="个人同意(注册时)",
    ),
    ("accounts.User", "display_name"): PiiTag(
        category="name", purpose="工单与服务记录中的称呼", retention=_ACCOUNT, retention_days=30
    ),
    ("accounts.User", "first_name"): PiiTag(
        category="name",
        purpose="Django 账号模型自带字段(本系统不填写)",
        retention=_ACCOUNT,
        retention_days=30,
    ),
    ("accounts.User", "last_name"): PiiTag(
        category="name",
        purpose="Django 账号模型自带字段(本系统不填写)",
        retention=_ACCOUNT,
        retention_days=30,
    ),
    ("accounts.User", "email"): PiiTag(
        category="contact", purpose="工作人员找回密码与通知", retention=_ACCOUNT, retention_days=30
    ),
    ("accounts.PhoneCode", "phone_index"): PiiTag(
        category="phone",
        purpose="短信验证码发送频率限制(密钥哈希,不可逆)",
        retention="1天(频率统计窗口),由定时任务删除",
        retention_days=1,
    ),
    ("accounts.PhoneCodeThrottle", "phone_index"): PiiTag(
        category="phone",
        purpose="同一手机号的验证码请求排队加锁,保证发送频率限制(密钥哈希,不可逆)",
        retention="1天(最后一次请求后),由定时任务删除",
        retention_days=1,
    ),
    ("security.AuditEvent", "ip"): PiiTag(
        category="contact",
        purpose="安全审计(等保2.0 安全审计要求)",
        retention="至少180天",
        retention_days=180,
        legal_basis="履行法定义务(网络安全法第21条)",
    ),
}

# Fields of other apps, registered here until their owners declare ``pii_fields`` on the model (a model's
# own declaration wins).
PII_FIELDS |= {
    ("stations.Station", "contact_name"): PiiTag(
        category="name",
        purpose="站点对外公示的站长/联系人(三亮)",
        retention="任职期间;离任后更换即删除",
        legal_basis="履行职责(公开服务信息)",
    ),
}

# Fields whose names look personal but are not, with the reason.
NOT_PERSONAL: dict[tuple[str, str], str] = {
    ("accounts.Unit", "phone"): "责任单位对外公开的办公电话,不是个人信息",
    ("places.Region", "address"): "楼栋、小区等地点的地址,不指向个人",
    ("stations.Station", "address"): "服务站点的公开地址",
    ("stations.Station", "phone"): "服务站点对外公开的服务电话",
    ("stations.Station", "lat"): "服务站点的位置,不是个人位置",
    ("stations.Station", "lng"): "服务站点的位置,不是个人位置",
    ("stations.StationChecklist", "photo"): "站点设施照片(指向 StationPhoto,经上传管道去除EXIF/GPS),不是人像",
    **{
        (model, field): "地点(区域、网格、楼栋)的坐标与范围,不是个人位置"
        for model in ("places.Region", "places.Grid")
        for field in ("lat", "lng", "min_lat", "min_lng", "max_lat", "max_lng")
    },
}

_PHONE = {"phone", "mobile", "tel", "telephone", "cellphone", "contact"}
_IDENTITY = {"identity", "certificate", "passport", "permit", "ric", "sfz", "idcard"}
_ADDRESS = {"address", "addr", "residence", "domicile", "room"}
_LOCATION = {
    "lat",
    "lng",
    "lon",
    "latitude",
    "longitude",
    "location",
    "gps",
    "track",
    "trace",
    "coordinates",
    "geom",
}
_CONTACT = {"email", "wechat", "openid", "unionid", "ip"}
_SENSITIVE = {
    "birth", "birthday", "dob", "age", "gender", "sex", "ethnicity", "health", "disease", "disability",
    "diagnosis", "medical", "income", "poverty", "religion", "photo", "face",
}  # fmt: skip
_NAME_FIELDS = {"display_name", "first_name", "last_name", "real_name", "full_name", "contact_name"}
_PERSON_WORDS = {
    "reporter", "resident", "owner", "applicant", "contact", "guardian", "elder", "member", "volunteer",
    "person", "citizen", "visitor", "patient", "tenant", "householder",
}  # fmt: skip
_PERSON_MODELS = re.compile(
    r"person|resident|member|volunteer|contact|reporter|elder|patient|visitor|applicant|citizen|tenant|guardian",
    re.IGNORECASE,
)
_ID_PHRASES = ("id_number", "id_no", "id_card", "house_number", "care_level")


def model_label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def looks_personal(model_name: str, field_name: str) -> str | None:
    """Why a field name looks like personal data, or None. Deliberately over-eager: exempt with a reason."""
    name = field_name.lower()
    tokens = set(name.split("_"))
    for phrase in _ID_PHRASES:
        if phrase in name:
            return f"name contains {phrase!r}"
    for label, words in (
        ("phone", _PHONE),
        ("identity document", _IDENTITY),
        ("address", _ADDRESS),
        ("location", _LOCATION),
        ("contact", _CONTACT),
        ("sensitive", _SENSITIVE),
    ):
        hit = tokens & words
        if hit:
            return f"{label} word {sorted(hit)[0]!r}"
    if name in _NAME_FIELDS:
        return "a person's name"
    if name.endswith("_name") and tokens & _PERSON_WORDS:
        return "a person's name"
    if name == "name" and _PERSON_MODELS.search(model_name):
        return "the name of a person-like model"
    return None


def pii_registry() -> dict[tuple[str, str], PiiTag]:
    """Every tag: the central table plus each model's ``pii_fields``."""
    registry = dict(PII_FIELDS)
    for model in apps.get_models():
        for field_name, tag in getattr(model, "pii_fields", {}).items():
            registry[(model_label(model), field_name)] = tag
    return registry


def pii_exemptions() -> dict[tuple[str, str], str]:
    exempt = dict(NOT_PERSONAL)
    for model in apps.get_models():
        for field_name, reason in getattr(model, "pii_exempt", {}).items():
            exempt[(model_label(model), field_name)] = reason
    return exempt


def pii_tag(model: type[models.Model], field_name: str) -> PiiTag | None:
    return pii_registry().get((model_label(model), field_name))


def untagged_personal_fields() -> list[str]:
    """``app.Model.field: reason`` for every field that looks personal and is neither tagged nor exempt."""
    registry, exempt = pii_registry(), pii_exemptions()
    found = []
    for model in apps.get_models():
        label = model_label(model)
        for field in model._meta.get_fields():
            if field.auto_created and not field.concrete:
                continue  # reverse relations belong to the other model
            reason = looks_personal(model.__name__, field.name)
            if reason and (label, field.name) not in registry and (label, field.name) not in exempt:
                found.append(f"{label}.{field.name}: {reason}")
    return sorted(found)


def stale_registry_entries() -> list[str]:
    """Tags or exemptions naming a field that no longer exists (a rename left the registry behind)."""
    stale = []
    for label, field_name in [*pii_registry(), *pii_exemptions()]:
        try:
            apps.get_model(label)._meta.get_field(field_name)
        except (LookupError, FieldDoesNotExist):
            stale.append(f"{label}.{field_name}")
    return sorted(stale)
