"""``{% load masking %}``: ``{{ user.phone|mask_phone }}``, ``{{ p.id_number|mask_id_number }}``, ``{{ p.name|mask_name }}``."""

from __future__ import annotations

from django import template

from linli.security import masking

register = template.Library()

register.filter("mask_phone", masking.mask_phone, is_safe=False)
register.filter("mask_id_number", masking.mask_id_number, is_safe=False)
register.filter("mask_name", masking.mask_name, is_safe=False)
register.filter("mask_text", masking.mask_text, is_safe=False)
