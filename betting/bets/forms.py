"""The pages' forms: query-string filters (a bad value is a 400 with a message, never a 500) and
the staff form that starts a backtest."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from betting.bets.models import Bankroll, Bet
from betting.bets.pricing import DEVIG_METHODS
from betting.games.models import OddsQuote

MARKETS = list(OddsQuote.Market.choices)
DATE_HELP = "YYYY-MM-DD"
# Dates the pages accept: anything outside is a typo (year 20233), not a request.
EARLIEST, LATEST = dt.date(1990, 1, 1), dt.date(2100, 12, 31)


def _check_range(value: dt.date | None) -> dt.date | None:
    if value is not None and not (EARLIEST <= value <= LATEST):
        raise forms.ValidationError(f"Pick a date between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}.")
    return value


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class TodayValues(TypedDict, total=False):
    """What the Today page reads of its form: every field once valid, none without a query string."""

    date: dt.date | None
    league: str | None
    market: str


class TodayForm(forms.Form):
    """``/?date=2023-12-11&league=NBA&market=h2h``."""

    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"], widget=DateInput(), help_text=DATE_HELP)
    league = forms.ChoiceField(required=False)
    market = forms.ChoiceField(required=False, choices=MARKETS)

    def __init__(self, *args: Any, leagues: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["league"].choices = self.league_choices(leagues)  # type: ignore[attr-defined]

    @staticmethod
    def league_choices(leagues: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The league list of the form (what the page's cache key holds without building a form)."""
        return [("", "All leagues"), *leagues]

    def clean_date(self) -> dt.date | None:
        return _check_range(self.cleaned_data.get("date"))

    def values(self) -> TodayValues:
        """The cleaned data (a valid form's)."""
        data = self.cleaned_data
        return {"date": data["date"], "league": data["league"], "market": data["market"]}


def _bankroll_label(bankroll: Bankroll) -> str:
    owner = bankroll.owner.get_username() if bankroll.owner_id and bankroll.owner else "system"
    return f"{bankroll} · {owner}"


class BetFilterForm(forms.Form):
    """Filters of the bets ledger (``/bets``)."""

    bankroll = forms.ChoiceField(required=False)
    league = forms.ChoiceField(required=False)
    market = forms.ChoiceField(required=False, choices=[("", "All markets"), *MARKETS])
    status = forms.ChoiceField(required=False, choices=[("", "Open and settled"), *Bet.Status.choices])
    result = forms.ChoiceField(required=False, choices=[("", "Any result"), *[c for c in Bet.Result.choices if c[0]]])
    date_from = forms.DateField(
        required=False, input_formats=["%Y-%m-%d"], widget=DateInput(), label="Placed from", help_text=DATE_HELP
    )
    date_to = forms.DateField(
        required=False, input_formats=["%Y-%m-%d"], widget=DateInput(), label="Placed to", help_text=DATE_HELP
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, bankrolls: list[Bankroll], leagues: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bankroll"].choices = [(str(b.pk), _bankroll_label(b)) for b in bankrolls]  # type: ignore[attr-defined]
        self.fields["league"].choices = [("", "All leagues"), *leagues]  # type: ignore[attr-defined]

    def clean_date_from(self) -> dt.date | None:
        return _check_range(self.cleaned_data.get("date_from"))

    def clean_date_to(self) -> dt.date | None:
        return _check_range(self.cleaned_data.get("date_to"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("“Placed from” is after “Placed to”.")
        return data


class BacktestForm(forms.Form):
    """What a staff member may vary when starting a backtest."""

    name = forms.CharField(required=False, max_length=100, help_text="A label to tell strategies apart.")
    league = forms.ChoiceField()
    market = forms.ChoiceField(choices=MARKETS)
    date_from = forms.DateField(input_formats=["%Y-%m-%d"], widget=DateInput(), help_text=DATE_HELP)
    date_to = forms.DateField(input_formats=["%Y-%m-%d"], widget=DateInput(), help_text=DATE_HELP)
    kelly_fraction = forms.FloatField(min_value=0.01, max_value=1.0, help_text="Share of the full Kelly stake.")
    min_edge = forms.FloatField(
        min_value=0.0,
        max_value=0.5,
        help_text="The model blended with the market (its fitted weights), minus 1/price.",
    )
    at = forms.ChoiceField(
        label="Decide at",
        choices=[("close", "The close (5 minutes before the start)"), ("open", "The opening line (first quote)")],
        initial="close",
        required=False,
        help_text="Closing-line value is measured against the de-vigged close either way.",
    )
    devig = forms.ChoiceField(
        label="De-vig method",
        choices=[(m, m.capitalize()) for m in DEVIG_METHODS],
        initial=lambda: settings.DEVIG_METHOD,
    )
    starting_bankroll = forms.DecimalField(min_value=100, max_value=10_000_000, decimal_places=2)

    def __init__(self, *args: Any, leagues: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["league"].choices = leagues  # type: ignore[attr-defined]
        limits = settings.RISK_LIMITS
        self.fields["kelly_fraction"].initial = limits["kelly_fraction"]
        self.fields["min_edge"].initial = limits["min_edge"]
        self.fields["starting_bankroll"].initial = settings.PAPER_BANKROLL_DEPOSIT

    def clean_date_from(self) -> dt.date | None:
        return _check_range(self.cleaned_data.get("date_from"))

    def clean_date_to(self) -> dt.date | None:
        return _check_range(self.cleaned_data.get("date_to"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if start > end:
                raise forms.ValidationError("The first day is after the last day.")
            if (end - start).days > 3 * 366:
                raise forms.ValidationError("A backtest covers at most three years; split longer ranges.")
        return data

    def params(self) -> dict[str, float | str]:
        data = self.cleaned_data
        return {
            "kelly_fraction": data["kelly_fraction"],
            "min_edge": data["min_edge"],
            "devig": data["devig"],
            "at": data.get("at") or "close",
            "starting_bankroll": str(data["starting_bankroll"]),
        }


class EdgeFilterForm(forms.Form):
    """Filters of the market scanner (``/edges?league=NBA&market=spreads&min_ev=0.02&sort=ev``)."""

    SORTS = [("ev", "Best value first"), ("start", "Soonest game first"), ("book", "Book")]

    league = forms.ChoiceField(required=False)
    market = forms.ChoiceField(required=False, choices=[("", "All markets"), *MARKETS])
    min_ev = forms.FloatField(
        required=False,
        min_value=-1.0,
        max_value=10.0,
        label="Minimum EV",
        help_text="Per unit staked: 0.02 is 2%. Default: MIN_SCAN_EV.",
    )
    sort = forms.ChoiceField(required=False, choices=SORTS)
    at = forms.DateTimeField(
        required=False,
        label="As of",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="UTC, to replay a past moment (empty: now).",
    )

    def __init__(self, *args: Any, leagues: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["league"].choices = [("", "All leagues"), *leagues]  # type: ignore[attr-defined]

    def clean_at(self) -> dt.datetime | None:
        value: dt.datetime | None = self.cleaned_data.get("at")
        if value is None:
            return None
        at = value.replace(tzinfo=dt.UTC)  # the field reads UTC (TIME_ZONE), whatever the display zone
        if not (EARLIEST <= at.date() <= LATEST):
            raise forms.ValidationError(f"Pick a time between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}.")
        return at


IMPORT_MAX_BYTES = 20 * 1024 * 1024


class ImportBetsForm(forms.Form):
    """``/bets/import``: a CSV of the bets placed at books, onto a bankroll the user may bet on."""

    bankroll = forms.ChoiceField(help_text="One of your bankrolls (or one shared with you to bet on).")
    layout = forms.ChoiceField(help_text="The file's columns: see the README, “Importing your bets”.")
    file = forms.FileField(
        help_text=(
            "A CSV, UTF-8, first line the column names (Betfair: the listClearedOrders JSON, or its CSV); up to 20 MB."
        )
    )

    def __init__(self, *args: Any, bankrolls: list[Bankroll], layouts: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bankroll"].choices = [(str(b.pk), _bankroll_label(b)) for b in bankrolls]  # type: ignore[attr-defined]
        self.fields["layout"].choices = layouts  # type: ignore[attr-defined]

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if (upload.size or 0) > IMPORT_MAX_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB: split it.")
        return upload
