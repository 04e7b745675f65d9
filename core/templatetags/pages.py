"""Template helpers of the pages: times the viewer's browser converts to its own zone, percentages
and money with a dash for a missing value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

FORMATS = {"datetime": "%Y-%m-%d %H:%M", "time": "%H:%M", "date": "%Y-%m-%d", "day": "%a %d %b"}
DASH = "–"


@register.filter
def when(value: dt.datetime | None, style: str = "datetime") -> SafeString | str:
    """``<time datetime="...Z">`` in UTC ISO, shown in DISPLAY_TIME_ZONE until static/js/local-time.js
    rewrites it in the viewer's own zone."""
    if not isinstance(value, dt.datetime):
        return DASH
    utc = value.astimezone(dt.UTC)
    shown = value.astimezone(ZoneInfo(settings.DISPLAY_TIME_ZONE))
    text = shown.strftime(FORMATS.get(style, FORMATS["datetime"]))
    if style in ("datetime", "time"):
        text = f"{text} {shown.tzname()}"
    return format_html('<time datetime="{}" data-local="{}">{}</time>', utc.strftime("%Y-%m-%dT%H:%M:%SZ"), style, text)


@register.simple_tag
def display_zone() -> str:
    return str(settings.DISPLAY_TIME_ZONE)


def _number(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


@register.filter
def pct(value: object, digits: int = 1) -> str:
    number = _number(value)
    return DASH if number is None else f"{number * 100:.{int(digits)}f}%"


@register.filter
def signed_pct(value: object, digits: int = 1) -> str:
    number = _number(value)
    return DASH if number is None else f"{number * 100:+.{int(digits)}f}%"


@register.filter
def money(value: object) -> str:
    number = _number(value)
    if number is None:
        return DASH
    return f"{Decimal(str(value)):,.2f}" if isinstance(value, Decimal) else f"{number:,.2f}"


@register.filter
def odds(value: object) -> str:
    number = _number(value)
    return DASH if number is None else f"{number:.2f}"


@register.filter
def sign_class(value: object) -> str:
    """``pos`` / ``neg`` / empty, for colouring a figure (the sign is in the text too)."""
    number = _number(value)
    if number is None or number == 0:
        return ""
    return "pos" if number > 0 else "neg"
