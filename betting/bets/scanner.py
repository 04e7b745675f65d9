"""The market scanner: +EV prices against the sharp consensus, arbitrages, middles and steam moves,
from plain quote records. Pure: no Django, no I/O; `betting/bets/edges.py` reads the quotes.

Terms, for one game and market:

- A *line* is a pair of opposite sides that settle against each other: any two moneylines (h2h); a
  spread with its sign flipped (home -4.5 against away +4.5; keyed by the home side's point); a total
  at the same number (keyed by the total).
- A book's two quotes on one line are its *pair*; its *hold* is the pair's margin (1/a + 1/b - 1). A
  quote is *usable* only when its book's pair on that line is sane (`games.market.sane_pair`, the
  configured QUOTE_MIN_MARGIN/QUOTE_MAX_MARGIN): a corrupt or one-sided quote prices nothing here,
  as it prices nothing in the consensus or CLV.
- An exchange book's price is taken net of commission on net winnings: 1 + (price - 1)(1 - c). The
  listed `price` is the quoted one; EV, arbitrage sums and stakes use the net one.

What comes out:

- positive_ev: usable quotes whose EV against the fair probability, fair_prob x net price - 1, is at
  least `min_ev`, on a pair holding at most `max_hold`. The fair probability is the de-vigged mean of
  the sharp books' pairs on that line (`pricing.consensus_probability`), else of every usable pair.
- arbitrage: lines where the best net prices on the two sides imply less than 1 (sum of 1/price);
  stakes split so that either result returns the same, for a total of 100; margin = 1 - sum.
- middles: a spread (home +a at one book, away +b at another, a + b > 0) or a total (over t1, under
  t2, t1 < t2) leaving a window of final scores, with a whole number strictly inside it, where both
  bets win; width = a + b or t2 - t1. The best net price on each point; margin = 1 - sum of 1/price
  (what the pair costs when the game lands outside the window, as a share of the stake).
- steam: at least `steam_min_books` books moving one line the same way within `steam_window`, from
  the quote history: a line moved towards a side (home's spread down, a total up for the over), or,
  at the same line, the side's price shortened. Moves are read on the home (h2h, spreads) or the
  over (totals) quote; the earliest move of the cluster names the book that moved first.

Player props (markets ``player_*``) are read like totals, one line per player: over/under on the same
player and number form a pair; arbitrage and middles never mix two players. Their items carry `player`.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import functools
import io
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TypeAlias

from betting.bets.pricing import DevigMethod, consensus_probability
from betting.games import market as market_sanity

MARKETS = ("h2h", "spreads", "totals")
SIDES = {"h2h": ("home", "away"), "spreads": ("home", "away"), "totals": ("over", "under")}
PROP_PREFIX = "player_"  # player props (player_points...): over/under on one player's line, read like a total
KINDS = ("positive_ev", "arbitrage", "middles", "steam")
TOTAL_STAKE = 100.0
DEFAULT_SHARP_BOOKS = ("pinnacle", "circasports", "lowvig", "betonlineag")
DEFAULT_EXCHANGE_BOOKS = ("betfair_ex_*", "matchbook", "smarkets", "betdaq", "sporttrade", "prophetx", "novig")


@dataclass(frozen=True, slots=True)
class Quote:
    """A book's price on one side, as seen at one moment."""

    game_id: int
    book: str
    market: str  # h2h | spreads | totals
    side: str  # home | away | over | under
    price: float  # decimal odds
    point: float | None  # this side's spread, or the total; None for h2h
    captured_at: dt.datetime
    player: str = ""  # a prop market's player; "" for game markets


def sides_of(market: str) -> tuple[str, str] | None:
    """The two sides of a market's line, or None for a market the scanner does not read."""
    sides = SIDES.get(market)  # asked for every quote a scan reads: the game markets first
    if sides is None and market.startswith(PROP_PREFIX):
        return ("over", "under")
    return sides


@dataclass(frozen=True, slots=True)
class Matchup:
    home: str
    away: str


@dataclass(frozen=True)
class ScanConfig:
    sharp_books: tuple[str, ...] = DEFAULT_SHARP_BOOKS
    min_ev: float = 0.01
    max_hold: float = 0.10
    exchange_commission: float = 0.02
    exchange_books: tuple[str, ...] = DEFAULT_EXCHANGE_BOOKS  # fnmatch patterns
    steam_min_books: int = 3
    steam_window: dt.timedelta = dt.timedelta(minutes=10)
    devig_method: DevigMethod = "multiplicative"
    margin_bounds: tuple[float, float] | None = None  # None: the configured QUOTE_MIN/MAX_MARGIN

    def is_exchange(self, book: str) -> bool:
        return _matches_any(book, self.exchange_books)

    def net_price(self, book: str, price: float) -> float:
        """The price a winning bet pays once the exchange has taken its commission on net winnings."""
        if self.exchange_commission and self.is_exchange(book):
            return 1.0 + (price - 1.0) * (1.0 - self.exchange_commission)
        return price


@functools.lru_cache(maxsize=4096)
def _matches_any(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether ``name`` matches one of the fnmatch ``patterns``: asked for every price a scan weighs,
    about a few dozen books."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


@dataclass(frozen=True)
class Finding:
    """What every finding names first: the game, its teams and the market."""

    game_id: int
    home: str
    away: str
    market: str


@dataclass(frozen=True)
class PositiveEV(Finding):
    side: str
    point: float | None
    book: str
    price: float
    fair_prob: float
    ev: float
    hold: float
    player: str = ""


@dataclass(frozen=True)
class Leg:
    side: str
    book: str
    price: float
    stake: float


@dataclass(frozen=True)
class Arbitrage(Finding):
    point: float | None  # the home side's spread, or the total; None for h2h
    legs: list[Leg]
    margin: float
    player: str = ""


@dataclass(frozen=True)
class MiddleLeg:
    side: str
    book: str
    price: float
    point: float


@dataclass(frozen=True)
class Middle(Finding):
    legs: list[MiddleLeg]
    width: float
    margin: float
    player: str = ""


@dataclass(frozen=True)
class Move:
    book: str
    at: dt.datetime
    from_price: float
    to_price: float
    from_point: float | None
    to_point: float | None


@dataclass(frozen=True)
class Steam(Finding):
    side: str  # the side the money went to
    first_book: str
    first_at: dt.datetime
    last_at: dt.datetime
    books: list[str]
    moves: list[Move]
    player: str = ""


@dataclass
class ScanResult:
    positive_ev: list[PositiveEV] = field(default_factory=list)
    arbitrage: list[Arbitrage] = field(default_factory=list)
    middles: list[Middle] = field(default_factory=list)
    steam: list[Steam] = field(default_factory=list)

    def as_json(self) -> dict[str, list[dict[str, Json]]]:
        """One object with the four lists; times as ISO 8601 strings. A prop's item carries its `player`;
        a game market's keeps exactly the issue's keys."""
        return {kind: [_item(item) for item in getattr(self, kind)] for kind in KINDS}


Json: TypeAlias = dict[str, "Json"] | list["Json"] | str | int | float | None


def _item(item: Finding) -> dict[str, Json]:
    data = {key: _jsonable(value) for key, value in asdict(item).items()}
    if not data.get("player"):
        data.pop("player", None)
    return data


def _jsonable(value: object) -> Json:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    if value is None or isinstance(value, str | int):
        return value
    raise TypeError(f"a finding holds {value!r}, which has no JSON form")


# --- Lines and pairs ---------------------------------------------------------------------------

LineKey = tuple[int, str, str, float | None]  # game, market, player ("" but for props), line (home's spread / total)


def line_of(quote: Quote) -> float | None:
    """The line a quote belongs to: None for h2h, the home side's spread, or the total."""
    if quote.market == "h2h":
        return None
    if quote.point is None:
        raise ValueError(f"a {quote.market} quote needs a point: {quote}")
    point = float(quote.point)
    return -point if quote.market == "spreads" and quote.side == "away" else point


@dataclass
class _Pair:
    book: str
    prices: dict[str, float]  # side -> quoted price
    hold: float


def usable_pairs(latest: Iterable[Quote], config: ScanConfig) -> dict[LineKey, list[_Pair]]:
    """Each line's sane two-way pairs, one per book (books in name order). `latest` holds one
    quote per game, book, market and side: each book's latest."""
    grouped: dict[tuple[LineKey, str], dict[str, float]] = {}
    for quote in latest:
        sides = sides_of(quote.market)
        if sides is None or quote.side not in sides:
            continue
        if quote.market != "h2h" and quote.point is None:
            continue
        key = (quote.game_id, quote.market, quote.player, line_of(quote))
        grouped.setdefault((key, quote.book), {})[quote.side] = quote.price
    lo, hi = config.margin_bounds or market_sanity.bounds()
    lines: dict[LineKey, list[_Pair]] = defaultdict(list)
    for (key, book), prices in sorted(grouped.items(), key=lambda item: (_sortable(item[0][0]), item[0][1])):
        a, b = _sides(key[1])
        if a not in prices or b not in prices:
            continue
        # market_sanity.sane_pair's rule, its margin kept as the hold (computed once per pair)
        try:
            hold = market_sanity.pair_margin(prices[a], prices[b])
        except (ValueError, ArithmeticError):
            continue
        if lo <= hold <= hi:
            lines[key].append(_Pair(book, prices, hold))
    return lines


def _sides(market: str) -> tuple[str, str]:
    sides = sides_of(market)
    if sides is None:
        raise ValueError(f"the scanner does not read the {market} market")
    return sides


def _sortable(key: LineKey) -> tuple[int, str, str, float]:
    return key[0], key[1], key[2], -math.inf if key[3] is None else key[3]


def _side_point(market: str, side: str, line: float | None) -> float | None:
    if line is None:
        return None
    return -line if market == "spreads" and side == "away" else line


# --- The scan ----------------------------------------------------------------------------------


def scan(
    *,
    latest: Sequence[Quote],
    history: Sequence[Quote] = (),
    games: Mapping[int, Matchup],
    config: ScanConfig,
) -> ScanResult:
    """Everything the scanner finds in `latest` (each book's latest quote per game, market and side)
    and `history` (every quote of those games, any order, for steam). Games not in `games` are skipped."""
    latest = [q for q in latest if q.game_id in games]
    lines = usable_pairs(latest, config)
    return ScanResult(
        positive_ev=positive_ev(lines, games, config),
        arbitrage=arbitrages(lines, games, config),
        middles=middles(lines, games, config),
        steam=steam([q for q in history if q.game_id in games], games, config),
    )


def positive_ev(
    lines: Mapping[LineKey, list[_Pair]], games: Mapping[int, Matchup], config: ScanConfig
) -> list[PositiveEV]:
    found = []
    sharp = set(config.sharp_books)
    for (game_id, market, player, line), pairs in lines.items():
        a, b = _sides(market)
        reference = [p for p in pairs if p.book in sharp] or pairs
        for side, other in ((a, b), (b, a)):
            fair = consensus_probability(
                [(p.prices[side], p.prices[other]) for p in reference],
                config.devig_method,
                bounds=config.margin_bounds or market_sanity.bounds(),
            )
            if fair is None:
                continue
            for pair in pairs:
                if pair.hold > config.max_hold:
                    continue
                price = pair.prices[side]
                ev = fair * config.net_price(pair.book, price) - 1.0
                if ev >= config.min_ev:
                    matchup = games[game_id]
                    found.append(
                        PositiveEV(
                            game_id, matchup.home, matchup.away, market, side,
                            _side_point(market, side, line), pair.book, price, fair, ev, pair.hold, player,
                        )
                    )  # fmt: skip
    found.sort(key=lambda e: (-e.ev, e.game_id, e.market, e.side, e.book))
    return found


def _best(pairs: Sequence[_Pair], side: str, config: ScanConfig) -> tuple[_Pair, float]:
    """The pair with the best net price on `side` (the first book by name on a tie) and that price."""
    best = max(pairs, key=lambda p: config.net_price(p.book, p.prices[side]))  # max keeps the first
    return best, config.net_price(best.book, best.prices[side])


def arbitrages(
    lines: Mapping[LineKey, list[_Pair]], games: Mapping[int, Matchup], config: ScanConfig
) -> list[Arbitrage]:
    found = []
    for (game_id, market, player, line), pairs in lines.items():
        a, b = _sides(market)
        (pa, net_a), (pb, net_b) = _best(pairs, a, config), _best(pairs, b, config)
        total = 1.0 / net_a + 1.0 / net_b
        if total >= 1.0:
            continue
        legs = [
            Leg(side, pair.book, pair.prices[side], round(TOTAL_STAKE * (1.0 / net) / total, 2))
            for side, pair, net in ((a, pa, net_a), (b, pb, net_b))
        ]
        matchup = games[game_id]
        found.append(Arbitrage(game_id, matchup.home, matchup.away, market, line, legs, 1.0 - total, player))
    found.sort(key=lambda x: (-x.margin, x.game_id, x.market))
    return found


def middle_window(market: str, low_point: float, high_point: float) -> float | None:
    """The width of the window both bets win inside, or None when no final score fits strictly inside.

    Spreads: home +a (``low_point`` = a) and away +b (``high_point`` = b) both win when the home margin
    M has -a < M < b. Totals: over t1 and under t2 both win when t1 < T < t2."""
    lower, upper = (-low_point, high_point) if market == "spreads" else (low_point, high_point)
    if upper <= lower:
        return None
    first_inside = math.floor(lower) + 1
    return upper - lower if first_inside < upper else None


def middles(lines: Mapping[LineKey, list[_Pair]], games: Mapping[int, Matchup], config: ScanConfig) -> list[Middle]:
    by_game: dict[tuple[int, str, str], list[tuple[float, list[_Pair]]]] = defaultdict(list)
    for (game_id, market, player, line), pairs in lines.items():
        if line is not None:
            by_game[(game_id, market, player)].append((line, pairs))
    found = []
    for (game_id, market, player), entries in by_game.items():
        a, b = _sides(market)  # home/away or over/under
        for line_a, pairs_a in entries:
            for line_b, pairs_b in entries:
                if line_a == line_b:
                    continue
                point_a = line_a  # home's spread, or the over's total
                point_b = _side_point(market, b, line_b)  # away's spread, or the under's total
                if point_b is None:  # a line without a point (never for spreads and totals)
                    continue
                width = middle_window(market, point_a, point_b)
                if width is None:
                    continue
                (qa, net_a), (qb, net_b) = _best(pairs_a, a, config), _best(pairs_b, b, config)
                legs = [
                    MiddleLeg(a, qa.book, qa.prices[a], point_a),
                    MiddleLeg(b, qb.book, qb.prices[b], point_b),
                ]
                matchup = games[game_id]
                margin = 1.0 - (1.0 / net_a + 1.0 / net_b)
                found.append(Middle(game_id, matchup.home, matchup.away, market, legs, width, margin, player))
    found.sort(key=lambda m: (-m.width, -m.margin, m.game_id, m.market))
    return found


# --- Steam -------------------------------------------------------------------------------------


def _direction(market: str, before: Quote, after: Quote) -> int:
    """+1 when the move favours the home (or over) side, -1 when it favours the other, 0 for none."""
    if market != "h2h" and before.point is not None and after.point is not None and before.point != after.point:
        moved_up = after.point > before.point
        # A home spread going up (-4 -> -3) favours the away side; a total going up favours the over.
        return (-1 if moved_up else 1) if market == "spreads" else (1 if moved_up else -1)
    if after.price < before.price:
        return 1
    if after.price > before.price:
        return -1
    return 0


def steam(history: Sequence[Quote], games: Mapping[int, Matchup], config: ScanConfig) -> list[Steam]:
    tracks: dict[tuple[int, str, str, str], list[Quote]] = defaultdict(list)
    for quote in history:
        sides = sides_of(quote.market)
        if sides is not None and sides[0] == quote.side:  # home (h2h, spreads) or over (totals, props)
            tracks[(quote.game_id, quote.market, quote.player, quote.book)].append(quote)
    moves: dict[tuple[int, str, str, int], list[Move]] = defaultdict(list)
    for (game_id, market, player, book), quotes in tracks.items():
        quotes.sort(key=lambda q: q.captured_at)
        for before, after in itertools.pairwise(quotes):
            direction = _direction(market, before, after)
            if direction:
                moves[(game_id, market, player, direction)].append(
                    Move(book, after.captured_at, before.price, after.price, before.point, after.point)
                )
    found = []
    for (game_id, market, player, direction), run in moves.items():
        run.sort(key=lambda m: (m.at, m.book))
        start = 0
        while start < len(run):
            window = [m for m in run[start:] if m.at - run[start].at <= config.steam_window]
            books = list(dict.fromkeys(m.book for m in window))
            if len(books) < max(2, config.steam_min_books):
                start += 1
                continue
            first = window[0]
            side = _sides(market)[0 if direction > 0 else 1]
            matchup = games[game_id]
            found.append(
                Steam(
                    game_id,
                    matchup.home,
                    matchup.away,
                    market,
                    side,
                    first.book,
                    first.at,
                    window[-1].at,
                    books,
                    window,
                    player,
                )
            )
            start += len(window)  # the next steam starts after this cluster
    found.sort(key=lambda s: (s.first_at, s.game_id, s.market), reverse=True)
    return found


# --- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "kind", "game_id", "home", "away", "market", "side", "point", "book", "price",
    "fair_prob", "ev", "hold", "margin", "width", "legs", "first_at", "last_at", "player",
)  # fmt: skip


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}".rstrip("0").rstrip(".")


def csv_rows(result: ScanResult) -> list[dict[str, str]]:
    """One row per item, the four kinds in one table (`kind` says which); legs as `side book price x stake`."""
    rows: list[dict[str, str]] = []
    for e in result.positive_ev:
        rows.append(
            {"kind": "positive_ev", "game_id": str(e.game_id), "home": e.home, "away": e.away, "market": e.market,
             "side": e.side, "point": _num(e.point, 2), "book": e.book, "price": _num(e.price),
             "fair_prob": _num(e.fair_prob), "ev": _num(e.ev), "hold": _num(e.hold), "player": e.player}
        )  # fmt: skip
    for a in result.arbitrage:
        legs = "; ".join(f"{leg.side} {leg.book} {_num(leg.price)} x {leg.stake:.2f}" for leg in a.legs)
        rows.append(
            {"kind": "arbitrage", "game_id": str(a.game_id), "home": a.home, "away": a.away, "market": a.market,
             "point": _num(a.point, 2), "margin": _num(a.margin), "legs": legs, "player": a.player}
        )  # fmt: skip
    for m in result.middles:
        legs = "; ".join(f"{leg.side} {_num(leg.point, 2)} {leg.book} {_num(leg.price)}" for leg in m.legs)
        rows.append(
            {"kind": "middles", "game_id": str(m.game_id), "home": m.home, "away": m.away, "market": m.market,
             "width": _num(m.width, 2), "margin": _num(m.margin), "legs": legs, "player": m.player}
        )  # fmt: skip
    for s in result.steam:
        rows.append(
            {"kind": "steam", "game_id": str(s.game_id), "home": s.home, "away": s.away, "market": s.market,
             "side": s.side, "book": s.first_book, "legs": "; ".join(s.books),
             "first_at": s.first_at.isoformat(), "last_at": s.last_at.isoformat(), "player": s.player}
        )  # fmt: skip
    return rows


def to_csv(result: ScanResult) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(result))
    return buffer.getvalue()
