"""``{% load patrols_format %}``: ``{{ seconds|duration }}`` → "1小时05分", ``{{ metres|distance }}`` → "1.23公里"."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(seconds: object) -> str:
    try:
        total = max(int(float(str(seconds))), 0)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours}小时{minutes:02d}分"
    return f"{minutes}分钟"


@register.filter
def distance(metres: object) -> str:
    try:
        value = float(str(metres))
    except (TypeError, ValueError):
        return ""
    if value >= 1000:
        return f"{value / 1000:.2f}公里"
    return f"{value:.0f}米"
