"""Bankrolls, their ledger, and the bets placed from them. Money is Decimal, never float."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone

from betting.games.models import Bookmaker, Game, OddsQuote
from betting.predictions.models import ModelVersion

MONEY_DIGITS, MONEY_PLACES = 14, 2


# The risk limits a bankroll may set for itself; empty (null) means the environment's
# (settings.RISK_LIMITS, KELLY_FRACTION and the rest). Names as in staking.RiskLimits.
LIMIT_FIELDS = (
    "kelly_fraction",
    "min_edge",
    "max_stake_absolute",
    "max_stake_fraction",
    "daily_exposure_fraction",
    "max_drawdown_fraction",
    "consecutive_loss_limit",
)


class Bankroll(models.Model):
    """Money a user (``owner``) tracks: PAPER (the strategy's bets) or LIVE (bets placed at books).
    No owner means the system's (the automatic run's PAPER_BANKROLL). Each bankroll may override
    the environment's risk limits; ``auto_paper`` opts a PAPER bankroll into the automatic run."""

    class Mode(models.TextChoices):
        PAPER = "PAPER", "Paper trading"
        LIVE = "LIVE", "Live (bets entered by the user)"

    name = models.CharField(max_length=50)
    owner = models.ForeignKey(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bankrolls",
        help_text="Empty: the system's bankroll (the automatic run's), visible to staff.",
    )
    mode = models.CharField(max_length=5, choices=Mode.choices, default=Mode.PAPER)
    currency = models.CharField(max_length=3, default="USD")
    auto_paper = models.BooleanField(
        default=False, help_text="PAPER only: the automatic run after each odds pull bets on it too."
    )
    kelly_fraction = models.FloatField(null=True, blank=True, help_text="Empty: KELLY_FRACTION.")
    min_edge = models.FloatField(null=True, blank=True, help_text="Empty: MIN_EDGE.")
    max_stake_absolute = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        null=True,
        blank=True,
        help_text="Empty: MAX_STAKE_ABSOLUTE.",
    )
    max_stake_fraction = models.FloatField(null=True, blank=True, help_text="Empty: MAX_STAKE_FRACTION.")
    daily_exposure_fraction = models.FloatField(null=True, blank=True, help_text="Empty: DAILY_EXPOSURE_FRACTION.")
    max_drawdown_fraction = models.FloatField(
        null=True, blank=True, help_text="Drawdown stop. Empty: MAX_DRAWDOWN_FRACTION."
    )
    consecutive_loss_limit = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Losing-streak stop. Empty: CONSECUTIVE_LOSS_LIMIT."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="bankroll_name_per_owner"),
            models.UniqueConstraint(fields=["name"], condition=Q(owner__isnull=True), name="bankroll_system_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_mode_display()})"

    def balance(self) -> Decimal:
        """Deposits minus stakes plus payouts and refunds: the ledger's sum."""
        total = self.entries.aggregate(total=Sum("amount"))["total"]
        return Decimal(total or 0)

    def limit_overrides(self) -> dict[str, object]:
        """The limits this bankroll sets itself (the others are the environment's)."""
        return {name: getattr(self, name) for name in LIMIT_FIELDS if getattr(self, name) is not None}


class BankrollMember(models.Model):
    """A syndicate: another user shares the bankroll, to see it (view) or also to record bets (bet)."""

    class Permission(models.TextChoices):
        VIEW = "view", "View"
        BET = "bet", "View and bet"

    bankroll = models.ForeignKey(Bankroll, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="bankroll_memberships")
    permission = models.CharField(max_length=4, choices=Permission.choices, default=Permission.VIEW)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bankroll", "user"]
        constraints = [models.UniqueConstraint(fields=["bankroll", "user"], name="member_once_per_bankroll")]

    def __str__(self) -> str:
        return f"{self.user} {self.permission} {self.bankroll.name}"


class RiskLimitChange(models.Model):
    """Every change to a bankroll's risk limits: who, when, the limits before and after."""

    bankroll = models.ForeignKey(Bankroll, on_delete=models.CASCADE, related_name="limit_changes")
    changed_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="limit_changes"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(default=dict, help_text="The overrides before (empty: the environment's).")
    after = models.JSONField(default=dict)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["bankroll", "-changed_at"], name="limit_change_recent")]

    def __str__(self) -> str:
        return f"{self.bankroll.name} limits changed {self.changed_at:%Y-%m-%d %H:%M}"


class Bet(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SETTLED = "settled", "Settled"

    class Result(models.TextChoices):
        PENDING = "", "Pending"
        WIN = "win", "Win"
        LOSS = "loss", "Loss"
        PUSH = "push", "Push"
        VOID = "void", "Void"

    class Source(models.TextChoices):
        MODEL = "model", "The strategy (recommend)"
        MANUAL = "manual", "Entered by a user"
        IMPORT = "import", "Imported from a CSV"

    bankroll = models.ForeignKey(Bankroll, on_delete=models.PROTECT, related_name="bets")
    game = models.ForeignKey(Game, on_delete=models.PROTECT, related_name="bets")
    market = models.CharField(max_length=10, choices=OddsQuote.Market.choices)
    outcome = models.CharField(max_length=5, choices=OddsQuote.Outcome.choices)
    bookmaker = models.ForeignKey(Bookmaker, on_delete=models.PROTECT, related_name="bets")
    price = models.DecimalField(max_digits=10, decimal_places=4, help_text="Decimal odds taken.")
    point = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    stake = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    probability = models.DecimalField(max_digits=7, decimal_places=6, help_text="The model's probability.")
    edge = models.DecimalField(max_digits=7, decimal_places=6, help_text="Probability minus 1/price.")
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="bets"
    )
    decision_run = models.CharField(max_length=40, help_text="The decision run that placed it (idempotency key).")
    placed_at = models.DateTimeField()
    source = models.CharField(max_length=6, choices=Source.choices, default=Source.MODEL)
    reported_result = models.CharField(
        max_length=5, choices=Result.choices, blank=True, default="", help_text="What the book's export said."
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    result = models.CharField(max_length=5, choices=Result.choices, blank=True, default="")
    payout = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        null=True,
        blank=True,
        help_text="Returned on settlement, stake included.",
    )
    settled_at = models.DateTimeField(null=True, blank=True)
    closing_price = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True, help_text="De-vigged closing price of this side."
    )
    clv = models.DecimalField(
        max_digits=8, decimal_places=6, null=True, blank=True, help_text="price / closing fair price - 1."
    )
    external_id = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="The book's own id of the bet (Betfair's or Pinnacle's betId); blank for paper bets.",
    )

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["bankroll", "game", "market", "outcome", "decision_run"], name="bet_once_per_decision"
            ),
            models.CheckConstraint(condition=Q(stake__gt=0), name="bet_stake_positive"),
            models.CheckConstraint(condition=Q(price__gt=1), name="bet_price_above_one"),
            # An imported bet without the book's id is the same bet when the same side of the same
            # game was taken at the same book, time, price and stake: importing a file twice refuses
            # the second copy. With the book's id, that id decides (two equal bets are two bets).
            models.UniqueConstraint(
                fields=["bankroll", "game", "market", "outcome", "bookmaker", "placed_at", "price", "stake"],
                condition=Q(source="import", external_id=""),
                name="bet_import_natural_key",
            ),
            # The book's own id, once per bankroll and book (the id first: the admin finds a bet by it).
            models.UniqueConstraint(
                fields=["external_id", "bookmaker", "bankroll"],
                condition=~Q(external_id=""),
                name="bet_external_id_per_book",
            ),
        ]
        indexes = [models.Index(fields=["bankroll", "status", "-placed_at"], name="bet_bankroll_status")]

    def __str__(self) -> str:
        point = f" {self.point:+}" if self.point is not None else ""
        return f"{self.game} {self.market} {self.outcome}{point} @ {self.price} x {self.stake}"

    @property
    def profit(self) -> Decimal | None:
        return None if self.payout is None else self.payout - self.stake


class BankrollEntry(models.Model):
    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        WITHDRAWAL = "withdrawal", "Withdrawal"
        STAKE = "stake", "Stake"
        PAYOUT = "payout", "Payout"
        ADJUSTMENT = "adjustment", "Adjustment"

    bankroll = models.ForeignKey(Bankroll, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, help_text="Signed: money in is positive."
    )
    bet = models.ForeignKey(Bet, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    created_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "bankroll entries"
        constraints = [
            # A bet is staked once and paid once: settling twice changes nothing.
            models.UniqueConstraint(fields=["bet", "kind"], condition=Q(bet__isnull=False), name="entry_once_per_bet"),
        ]
        indexes = [models.Index(fields=["bankroll", "created_at"], name="entry_bankroll_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+}"


class Backtest(models.Model):
    """A walk-forward replay of a strategy over past games, and what it would have made."""

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        RUNNING = "running", "Running"
        SUCCESS = "success", "Finished"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=100, blank=True, help_text="A label to tell strategies apart.")
    league = models.ForeignKey("games.League", on_delete=models.PROTECT, related_name="backtests")
    market = models.CharField(max_length=10, choices=OddsQuote.Market.choices)
    date_from = models.DateField()
    date_to = models.DateField()
    params = models.JSONField(
        default=dict, blank=True, help_text="The strategy: Kelly fraction, minimum edge, de-vig method, risk limits."
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    progress = models.FloatField(default=0.0, help_text="Share of the days replayed, 0 to 1.")
    progress_note = models.CharField(max_length=200, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="backtests"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    starting_bankroll = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    final_bankroll = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True)
    n_bets = models.PositiveIntegerField(null=True, blank=True)
    staked = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True)
    profit = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True)
    roi = models.FloatField(null=True, blank=True, help_text="Profit / starting bankroll.")
    roi_ci_low = models.FloatField(null=True, blank=True)
    roi_ci_high = models.FloatField(null=True, blank=True)
    yield_rate = models.FloatField(null=True, blank=True, help_text="Profit / amount staked.")
    yield_ci_low = models.FloatField(null=True, blank=True)
    yield_ci_high = models.FloatField(null=True, blank=True)
    hit_rate = models.FloatField(null=True, blank=True, help_text="Wins / (wins + losses); pushes left out.")
    max_drawdown = models.FloatField(null=True, blank=True, help_text="Largest fall from a peak, as a share of it.")
    avg_clv = models.FloatField(null=True, blank=True, help_text="Mean of price / de-vigged closing price - 1.")
    curve = models.JSONField(default=list, blank=True, help_text="[{date, bankroll}] after each day's results.")
    summary = models.JSONField(default=dict, blank=True, help_text="By month, by side, passes and model updates.")
    bets = models.JSONField(default=list, blank=True, help_text="Every simulated bet, with what it knew and when.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["league", "market", "-created_at"], name="backtest_recent")]

    def __str__(self) -> str:
        label = self.name or f"{self.league_id}"
        return f"{label} {self.market} {self.date_from}..{self.date_to} ({self.get_status_display()})"

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.SUCCESS, self.Status.FAILED)


class Alert(models.Model):
    """An edge the scanner found and the channels were told about, once: ``key`` names the edge
    (kind, game, market, line, side, books), so a replayed or the next pull never repeats it."""

    class Kind(models.TextChoices):
        POSITIVE_EV = "positive_ev", "+EV price"
        ARBITRAGE = "arbitrage", "Arbitrage"
        MIDDLES = "middles", "Middle"
        STEAM = "steam", "Steam"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        PARTIAL = "partial", "Some channels failed"
        FAILED = "failed", "Every channel failed"
        QUIET = "quiet", "Quiet hours: not sent"
        NO_CHANNEL = "no_channel", "No channel configured"

    key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the edge's identity.")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="alerts")
    text = models.TextField(help_text="The line the channels received.")
    payload = models.JSONField(default=dict, help_text="The scanner's item, as `scan --json` writes it.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    channels = models.JSONField(default=dict, blank=True, help_text='Per channel: "sent" or the last error.')
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="alert_status_created")]

    def __str__(self) -> str:
        return self.text[:80]
