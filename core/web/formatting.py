"""How figures read to a bettor, in pages, commands and reasons alike: prices in American or decimal
odds, signed spread lines, money to the cent with thousands separators, percentages. Pure: no Django.

- A price is stored as decimal odds (``Decimal`` in the ledger, float in model math). American odds are
  written as bettors write them: ``+150`` for 2.50, ``-110`` for 1.909, ``+100`` for evens (2.00), whole
  numbers rounded half up, never below 100 in size. The conversion is ``betting.bets.pricing``'s
  (``decimal_to_american``), which core may not import; ``tests/pages/test_formatting.py`` holds the two
  together.
- A spread line is signed (``+4.5``, ``-4.5``) and a pick'em is ``PK``; a total is unsigned (``220.5``).
- Money is rounded half up to the cent and grouped: ``8,000.11`` (never ``8000.11000000000``).
- A missing or unreadable value is a dash, never an error.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ODDS_FORMATS = ("american", "decimal")
DASH = "–"
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def to_decimal(value: object) -> Decimal | None:
    """``value`` as a finite Decimal (floats through their shortest repr, so 0.1 stays 0.1), or None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def american(price: object) -> int | None:
    """Decimal odds as whole American odds: 2.5 -> 150, 1.909 -> -110, 2.0 -> 100, 1.01 -> -10000.
    None for a missing price or one at or under 1 (no such price exists)."""
    number = to_decimal(price)
    if number is None or number <= 1:
        return None
    raw = (number - 1) * HUNDRED if number >= 2 else -HUNDRED / (number - 1)
    whole = int(raw.to_integral_value(rounding=ROUND_HALF_UP))
    # 1.995 is -100.5 -> -101; a price just under 2 never reads as a size under 100
    return whole if abs(whole) >= 100 else (100 if whole > 0 else -100)


def decimal_from_american(odds: object) -> Decimal | None:
    """American odds as decimal odds (unrounded): +150 -> 2.5, -110 -> 1.9090..., +100/-100 -> 2."""
    number = to_decimal(odds)
    if number is None or abs(number) < 100:
        return None
    return 1 + (number / HUNDRED if number > 0 else HUNDRED / -number)


def format_odds(price: object, style: str = "american") -> str:
    """A decimal price written in ``style``: ``american`` (+150, -110, +100) or ``decimal`` (2.50, 1.91)."""
    number = to_decimal(price)
    if number is None or number <= 1:
        return DASH
    if style == "decimal":
        return format_money(number)
    whole = american(number)
    return DASH if whole is None else f"{whole:+d}"


def format_line(point: object, market: str = "spreads") -> str:
    """A bet's line: a spread signed with 0 as ``PK`` (+4.5, -4.5, PK), a total or a prop's line as
    it is (220.5); trailing zeros dropped (-4.50 -> -4.5, 7.0 -> +7). Empty for a moneyline."""
    number = to_decimal(point)
    if market == "h2h" or number is None:
        return ""
    text = f"{number.normalize():f}"
    if market != "spreads":
        return text
    if number == 0:
        return "PK"
    return text if number < 0 else f"+{text}"


def format_money(amount: object, *, signed: bool = False) -> str:
    """To the cent, half up, grouped by thousands: 8,000.11; ``signed`` writes +12.50 / -12.50."""
    number = to_decimal(amount)
    if number is None:
        return DASH
    try:
        cents = number.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than a Decimal context holds: no ledger amount
        return DASH
    if cents == 0:
        cents = abs(cents)  # never "-0.00"
    return f"{cents:+,.2f}" if signed else f"{cents:,.2f}"


def format_pct(value: object, digits: int = 1, *, signed: bool = False) -> str:
    """A share as a percentage: 0.0525 -> 5.3% (``digits`` places); ``signed`` -> +5.3%."""
    number = to_decimal(value)
    if number is None:
        return DASH
    places = max(0, int(digits))
    try:
        share = (number * HUNDRED).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return DASH
    if share == 0:
        share = abs(share)  # never "-0.0%"
    return f"{share:+.{places}f}%" if signed else f"{share:.{places}f}%"
