"""What a report type is: its parameters, its tables (aggregated in SQL), its formats, who may run and download it,
and when it is due. The run machinery (``apps.reports.runs``) and the file writers (``apps.reports.formats``) know
nothing of any one report; a report knows nothing of Celery, files or the admin.

A report type::

    class DailyGgr(ReportType):
        code = "ggr_daily"
        title = "Daily GGR and NGR"
        params = (Param("start", "day"), Param("end", "day"), Param("jurisdiction", "jurisdiction", required=False))
        permission = "reports.run_financial"

        def tables(self, ctx, params):
            with ctx.cursor() as cursor:
                cursor.execute("SELECT ... GROUP BY ...", [params["start"], params["end"]])
                yield Table("by_day", "GGR by day", COLUMNS, ctx.rows(cursor))

Rules for ``tables``: aggregate in SQL (never iterate ledger rows in Python: a row that reaches Python is a row of
the output), read through ``ctx.cursor()`` only (it is the ``reports`` database alias, one snapshot for the whole
run), order every query completely (the same data must give the same bytes), and call ``ctx.progress`` between
tables. Values are ``str``, ``int``, ``Decimal``, ``date`` or ``None``; money stays ``Decimal`` with its currency in
another column of the row (``Column.currency``), never float.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from apps.reports.context import RunContext

FORMATS = ("csv", "xlsx", "pdf", "xml")

# --- parameters


@dataclass(frozen=True)
class Param:
    """One parameter of a report, given as text (command line, admin form, schedule) and cleaned to a value.

    Kinds and their text: ``day`` 2026-03-31; ``month`` 2026-03 (cleaned to its first and last day); ``quarter``
    2026-Q1 in the UK Gambling Commission's year (Q1 = April-June 2026, Q4 = January-March 2027; cleaned to its
    first and last day); ``jurisdiction`` GB; ``currency`` EUR; ``brand`` a brand code; ``money`` 10000.00;
    ``int`` 25; ``player`` a player's id or public id (P0000042); ``choice`` one of ``choices``; ``bool``
    yes/no. ``default`` is text too, or a function of today's date giving text (``previous_month``)."""

    name: str
    kind: str
    label: str = ""
    required: bool = True
    default: str | Callable[[date], str] | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def default_for(self, today: date) -> str | None:
        if callable(self.default):
            return self.default(today)
        return self.default


@dataclass(frozen=True)
class Period:
    """A closed range of local days, both ends included."""

    start: date
    end: date
    label: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return self.label or f"{self.start.isoformat()}..{self.end.isoformat()}"


def previous_month(today: date) -> str:
    first = today.replace(day=1) - timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def previous_uk_quarter(today: date) -> str:
    """The last UK quarter that has ended by ``today`` (Q1 = April-June)."""
    quarter_start_month = ((today.month - 1) // 3) * 3 + 1  # calendar quarter containing today
    last_end = date(today.year, quarter_start_month, 1) - timedelta(days=1)
    return uk_quarter_of(last_end)


def uk_quarter_of(day: date) -> str:
    """2026-Q1 for any day of April-June 2026; 2026-Q4 for January-March 2027."""
    year = day.year if day.month >= 4 else day.year - 1
    quarter = ((day.month - 4) % 12) // 3 + 1
    return f"{year:04d}-Q{quarter}"


def yesterday(today: date) -> str:
    return (today - timedelta(days=1)).isoformat()


def month_period(text: str) -> Period:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError("Give a month as YYYY-MM, e.g. 2026-03.")
    year, month = int(match[1]), int(match[2])
    return Period(
        date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]), f"{year:04d}-{month:02d}"
    )


def uk_quarter_period(text: str) -> Period:
    match = re.fullmatch(r"(\d{4})-Q([1-4])", text.strip().upper())
    if not match:
        raise ValueError("Give a UK quarter as YYYY-Qn, e.g. 2026-Q1 (April-June 2026).")
    year, quarter = int(match[1]), int(match[2])
    start_month = 4 + (quarter - 1) * 3
    start_year = year + (start_month - 1) // 12
    start_month = (start_month - 1) % 12 + 1
    end_month = start_month + 2
    end = date(start_year, end_month, calendar.monthrange(start_year, end_month)[1])
    return Period(date(start_year, start_month, 1), end, f"{year:04d}-Q{quarter}")


# --- output


@dataclass(frozen=True)
class Column:
    """A column of a table. ``kind``: ``text``, ``int``, ``money``, ``date``, ``percent`` (a Decimal, 12.5 = 12.5 %).
    A ``money`` column names the column of the same row that holds its currency (``currency``); without one, the
    table's currency is the report's (a single-currency report says so in its title)."""

    key: str
    label: str
    kind: str = "text"
    currency: str = ""
    help: str = ""


@dataclass
class Table:
    """One table of a report's output: a name (stable, used in file sections), a title, columns and rows. ``rows``
    may be a generator streaming from a server-side cursor: the writers consume it once, in order."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    note: str = ""


# --- due dates


@dataclass(frozen=True)
class Due:
    """When a regulator wants a period's report. ``cadence``: ``monthly`` (due on ``day`` of the next month: MGA
    the 20th) or ``uk_quarterly`` (due ``days`` after the UK quarter ends: 28) or ``daily`` (due ``days`` after
    the day). ``param`` is the parameter holding the period."""

    cadence: str
    param: str
    day: int = 0
    days: int = 0
    regulator: str = ""

    def period_text(self, period: Period) -> str:
        if self.cadence == "monthly":
            return f"{period.start.year:04d}-{period.start.month:02d}"
        if self.cadence == "uk_quarterly":
            return uk_quarter_of(period.start)
        return period.start.isoformat()

    def period_of(self, text: str) -> Period:
        if self.cadence == "monthly":
            return month_period(text)
        if self.cadence == "uk_quarterly":
            return uk_quarter_period(text)
        day = date.fromisoformat(text)
        return Period(day, day, text)

    def due_date(self, period: Period) -> date:
        if self.cadence == "monthly":
            following = period.end + timedelta(days=1)
            return following.replace(day=min(self.day, calendar.monthrange(following.year, following.month)[1]))
        return period.end + timedelta(days=self.days)

    def periods(self, first: date, today: date) -> list[Period]:
        """The periods that have ended by ``today``, the first one containing ``first``."""
        out: list[Period] = []
        period = self.period_of(self.period_text(Period(first, first)))
        while period.end < today:
            out.append(period)
            period = self.period_of(self.period_text(Period(period.end + timedelta(days=1), period.end)))
        return out


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule declared in code (``manage.py reports_schedules`` / the migration installs it as a
    django-celery-beat entry, which staff may then edit or disable). ``params`` are texts; a parameter left out takes
    its default at the moment the schedule fires (``previous_month``)."""

    name: str
    crontab: Mapping[str, str]  # minute, hour, day_of_month, month_of_year, day_of_week
    format: str = "csv"
    params: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True


# --- the type


class ReportType:
    code: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    formats: ClassVar[tuple[str, ...]] = ("csv", "xlsx", "pdf")
    # The permission to ask for a run and to download its file (both), besides reports.view_reportrun to see runs.
    permission: ClassVar[str] = "reports.run_financial"
    due: ClassVar[Due | None] = None
    schedules: ClassVar[tuple[ScheduleSpec, ...]] = ()

    def tables(self, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        raise NotImplementedError

    def xml(self, ctx: RunContext, params: dict[str, Any], tables: list[Table]) -> bytes:
        """The XML a regulator wants (only for a type listing ``xml`` in its formats). ``tables`` are already
        materialised (lists)."""
        raise NotImplementedError

    def check(self, params: dict[str, Any], user: Any | None) -> dict[str, str]:
        """Further checks of cleaned parameters, as field errors (``{}``: fine). ``user`` is who asks (None for a
        schedule or the command line). E.g. a SAR count only for a holder of sars.view_sar."""
        return {}

    def visible_params(self, user: Any | None) -> tuple[Param, ...]:
        """The parameters a person's forms show (a parameter they may not use is not offered: AML Analysts are
        not shown the SAR counts' switch)."""
        return self.params

    def download_permissions(self, params: dict[str, Any]) -> tuple[str, ...]:
        """What a person needs to download a run with these parameters (more than ``permission`` when the
        parameters put more sensitive figures in the file)."""
        return (self.permission,)

    def estimate_rows(self, params: dict[str, Any]) -> int | None:
        """A cheap estimate of the output rows for the progress bar (None: progress by table)."""
        return None

    # --- cleaning, shared by every caller

    def clean(self, raw: Mapping[str, str], *, today: date) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
        """Parse the texts: (values, canonical texts, field errors). Unknown names are errors; a missing optional
        parameter without default is None. The canonical texts are what a run stores and what makes two runs
        the same run."""
        values: dict[str, Any] = {}
        texts: dict[str, str] = {}
        errors: dict[str, str] = {}
        known = {param.name: param for param in self.params}
        for name in raw:
            if name not in known:
                errors[name] = f"{self.code} has no parameter {name!r} (it has: {', '.join(known) or 'none'})."
        for param in self.params:
            text = raw.get(param.name)
            if text is None or str(text).strip() == "":
                text = param.default_for(today)
            if text is None or str(text).strip() == "":
                if param.required:
                    errors[param.name] = "This parameter is required."
                else:
                    values[param.name] = None
                continue
            try:
                value, canonical = clean_value(param, str(text))
            except ValueError as exc:
                errors[param.name] = str(exc)
                continue
            values[param.name] = value
            texts[param.name] = canonical
        return values, texts, errors


_JURISDICTION = re.compile(r"[A-Z]{2}(-[A-Z]{2,3})?")
_CURRENCY = re.compile(r"[A-Z]{3}")


def clean_value(param: Param, text: str) -> tuple[Any, str]:
    """One parameter's text to (value, canonical text), or ValueError with a message for the person."""
    text = text.strip()
    if len(text) > 100 or "\x00" in text:
        raise ValueError("The value is too long or holds a NUL byte.")
    kind = param.kind
    if kind == "day":
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValueError("Give a date as YYYY-MM-DD, e.g. 2026-03-31.") from None
        return day, day.isoformat()
    if kind == "month":
        period = month_period(text)
        return period, period.label
    if kind == "quarter":
        period = uk_quarter_period(text)
        return period, period.label
    if kind == "jurisdiction":
        code = text.upper()
        if not _JURISDICTION.fullmatch(code):
            raise ValueError("Give a jurisdiction code, e.g. GB or CA-ON.")
        return code, code
    if kind == "currency":
        code = text.upper()
        if not _CURRENCY.fullmatch(code):
            raise ValueError("Give a currency code, e.g. EUR.")
        return code, code
    if kind in ("brand", "player"):
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", text):
            raise ValueError(f"Give a {kind} code (letters, digits, - and _).")
        return text, text
    if kind == "money":
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError("Give an amount, e.g. 10000.00.") from None
        if not amount.is_finite() or amount < 0 or amount >= Decimal("1e15") or amount.as_tuple().exponent < -4:  # type: ignore[operator]
            raise ValueError("Give a positive amount below 10^15 with at most four decimals.")
        return amount, format(amount, "f")
    if kind == "int":
        if not re.fullmatch(r"\d{1,9}", text):
            raise ValueError("Give a whole number.")
        return int(text), str(int(text))
    if kind == "choice":
        if text not in param.choices:
            raise ValueError(f"Choose one of: {', '.join(param.choices)}.")
        return text, text
    if kind == "bool":
        lowered = text.lower()
        if lowered in ("1", "yes", "true", "on"):
            return True, "yes"
        if lowered in ("0", "no", "false", "off"):
            return False, "no"
        raise ValueError("Give yes or no.")
    raise ValueError(f"Unknown parameter kind {kind!r}.")


# --- the registry

_TYPES: dict[str, ReportType] = {}


def register(report_type: ReportType) -> ReportType:
    if report_type.code in _TYPES:
        raise ValueError(f"report type {report_type.code!r} is registered twice")
    unknown = set(report_type.formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"report type {report_type.code!r}: unknown formats {sorted(unknown)}")
    _TYPES[report_type.code] = report_type
    return report_type


def report_types() -> dict[str, ReportType]:
    return dict(sorted(_TYPES.items()))


def report_type(code: str) -> ReportType | None:
    return _TYPES.get(code)
