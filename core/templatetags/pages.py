"""Template helpers of the pages: times the viewer's browser converts to its own zone, prices in the
viewer's odds format, signed lines, percentages and money with a dash for a missing value (the
formatting itself is core/web/formatting.py, shared with the commands)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.web import formatting
from core.web.preferences import odds_format

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
    """0.0525 -> 5.3% (one place unless told)."""
    return formatting.format_pct(value, int(digits))


@register.filter
def signed_pct(value: object, digits: int = 1) -> str:
    """+5.3% / -1.2%; never -0.0%."""
    return formatting.format_pct(value, int(digits), signed=True)


@register.filter
def money(value: object) -> str:
    """8,000.11: to the cent, grouped by thousands."""
    return formatting.format_money(value)


@register.filter
def signed_money(value: object) -> str:
    """+8,000.11 / -12.50, for profits."""
    return formatting.format_money(value, signed=True)


@register.filter
def odds(value: object, style: str = "") -> str:
    """A decimal price in the viewer's odds format (``ODDS_FORMAT``, or the browser's choice):
    +150 / -110 / +100, or 2.50 / 1.91; ``{{ price|odds:"decimal" }}`` forces one."""
    return formatting.format_odds(value, style if style in formatting.ODDS_FORMATS else odds_format())


@register.filter
def line(value: object, market: str = "spreads") -> str:
    """A bet's line for its market: +4.5 / -4.5 / PK on a spread, 220.5 on a total, nothing on h2h."""
    return formatting.format_line(value, market or "spreads")


@register.simple_tag(takes_context=True)
def odds_toggle_url(context: template.Context, style: str) -> str:
    """The link that switches the viewer's odds format and comes back to this page."""
    request = context.get("request")
    query = QueryDict(mutable=True)
    query["odds"] = style
    query["next"] = request.get_full_path() if request is not None else "/"
    return f"{reverse('odds-format')}?{query.urlencode()}"


@register.filter
def sign_class(value: object) -> str:
    """``pos`` / ``neg`` / empty, for colouring a figure (the sign is in the text too)."""
    number = _number(value)
    if number is None or number == 0:
        return ""
    return "pos" if number > 0 else "neg"
