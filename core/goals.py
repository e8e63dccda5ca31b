"""Three-month goals: due dates, statuses and their moves, check-in days, the digest's buckets, CSV safety.

Due dates are calendar dates. "Three months" is calendar months (python-dateutil's relativedelta), so
a goal set on 30 November is due on 28 February, or 29 February in a leap year.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from core.grammar import GrammarError, choice_list
from core.i18n import N_, pN_

GOAL_MONTHS = 3
DUE_SOON_DAYS = 14
CHANGED_DAYS = 7
# Cells a spreadsheet would read as a formula (or that hide one behind a tab or carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Status(StrEnum):
    """What a rep reports a goal's state to be (`/goal update`)."""

    ON_TRACK = "on-track"
    AT_RISK = "at-risk"
    DONE = "done"
    DROPPED = "dropped"


# A goal nobody has reported on yet: where every goal starts, and no one can set it (so not a Status).
NEW = "new"
NEW_LABEL = N_("not yet reported")  # a message: shown in the reader's language
# TRANSLATORS: a goal's status as shown; people type it in English (/goal update 3 at-risk).
STATUS_LABELS = {
    "on-track": pN_("goal status", "on-track"),
    "at-risk": pN_("goal status", "at-risk"),
    "done": pN_("goal status", "done"),
    "dropped": pN_("goal status", "dropped"),
    "overdue": pN_("goal status", "overdue"),
}
OPEN: frozenset[str] = frozenset({NEW, Status.ON_TRACK, Status.AT_RISK})
CLOSED = frozenset({Status.DONE, Status.DROPPED})
STATUSES = (NEW, *Status)  # every state a goal can be in, in the order a chart or a count reads them
NOT_A_STATUS = N_("The status is one of {choices}, not `{typed}`.")


class CheckinKind(StrEnum):
    MONTH_BEFORE = "month-before"
    DUE = "due"


def parse_status(typed: str) -> Status:
    """`on-track`, `on track`, `ON_TRACK` and `ontrack` are all on-track."""
    wanted = typed.strip().lower().replace("_", "-").replace(" ", "-")
    for status in Status:
        if wanted in (status.value, status.value.replace("-", "")):
            return status
    raise GrammarError(NOT_A_STATUS, choices=choice_list([status.value for status in Status]), typed=typed)


def status_label(status: str) -> str:
    """A goal's state as people read it: `new` is "not yet reported", the others as reps type them, and the
    standing `overdue` as itself. Every view and export words a status with this, and nothing else."""
    return NEW_LABEL if status == NEW else STATUS_LABELS.get(status, status)


# --- the one way goals are counted ----------------------------------------------------------------------------
#
# A goal's *standing* on a day is its status, except that an open goal past its due date is `overdue`, whatever
# was last reported. Each goal has exactly one standing, so counts add up to the number of goals; /goal list,
# /goal chart, the digest, the dashboard and both CSVs all count standings, never a status and overdue side by
# side. (Overdue is also a property of its own — `is_overdue` — which the list marks beside the status.)

OVERDUE = "overdue"
STANDINGS = (Status.DONE.value, Status.ON_TRACK.value, Status.AT_RISK.value, NEW, OVERDUE, Status.DROPPED.value)


def standing(*, status: str, due: date, today: date) -> str:
    return OVERDUE if is_overdue(status=status, due=due, today=today) else status


@dataclass(frozen=True)
class GoalCounts:
    """Goals counted by standing. `counted` leaves dropped goals out: they were never work done or to do."""

    done: int = 0
    on_track: int = 0
    at_risk: int = 0
    not_reported: int = 0
    overdue: int = 0
    dropped: int = 0

    FIELDS = {"done": "done", "on-track": "on_track", "at-risk": "at_risk", NEW: "not_reported",
              OVERDUE: "overdue", "dropped": "dropped"}  # fmt: skip

    @classmethod
    def of(cls, standings: Iterable[str], weights: Iterable[int] | None = None) -> GoalCounts:
        """Count standings (each `weights`' times when given: rows that already count several goals)."""
        tally = dict.fromkeys(cls.FIELDS.values(), 0)
        for value, times in zip(standings, weights if weights is not None else itertools.repeat(1), strict=False):
            tally[cls.FIELDS[value]] += times
        return cls(**tally)

    def __add__(self, other: GoalCounts) -> GoalCounts:
        return GoalCounts(**{f: getattr(self, f) + getattr(other, f) for f in self.FIELDS.values()})

    def of_standing(self, value: str) -> int:
        return int(getattr(self, self.FIELDS[value]))

    @property
    def open(self) -> int:
        return self.on_track + self.at_risk + self.not_reported + self.overdue

    @property
    def counted(self) -> int:
        return self.done + self.open

    @property
    def total(self) -> int:
        return self.counted + self.dropped


def may_move(current: str, new: Status) -> bool:
    """An open goal may go anywhere (staying put is a check-in); a closed one only restates how it closed."""
    return current in OPEN or new == current


def default_due(set_on: date) -> date:
    """Three calendar months after the day the goal was set; month ends clamp (30 Nov -> 28/29 Feb)."""
    due: date = set_on + relativedelta(months=GOAL_MONTHS)
    return due


def month_before(due: date) -> date:
    before: date = due - relativedelta(months=1)
    return before


def checkin_dates(due: date) -> dict[CheckinKind, date]:
    return {CheckinKind.MONTH_BEFORE: month_before(due), CheckinKind.DUE: due}


def checkin_due(*, due: date, set_on: date, today: date, sent: Iterable[str]) -> CheckinKind | None:
    """The check-in to send today, if any.

    The due-date one wins once the day has come, and then the month-before one is never sent late;
    a goal set less than a month before its due date gets no month-before check-in.
    """
    already = set(sent)
    if today >= due:
        return None if CheckinKind.DUE in already else CheckinKind.DUE
    reminder_day = month_before(due)
    if set_on < reminder_day <= today and CheckinKind.MONTH_BEFORE not in already:
        return CheckinKind.MONTH_BEFORE
    return None


def is_overdue(*, status: str, due: date, today: date) -> bool:
    return status in OPEN and due < today


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The calendar day of an instant in a zone."""
    return moment.astimezone(zone).date()


@dataclass(frozen=True)
class DigestBuckets:
    due_soon: bool
    overdue: bool
    changed: bool

    @property
    def any(self) -> bool:
        return self.due_soon or self.overdue or self.changed


def digest_buckets(*, status: str, due: date, updated_at: datetime, today: date, now: datetime) -> DigestBuckets:
    """Where a goal shows in an expert's weekly digest: due in the next two weeks, overdue, changed this week."""
    is_open = status in OPEN
    return DigestBuckets(
        due_soon=is_open and today <= due <= today + timedelta(days=DUE_SOON_DAYS),
        overdue=is_overdue(status=status, due=due, today=today),
        changed=updated_at > now - timedelta(days=CHANGED_DAYS),
    )


def neutralise_cell(value: str) -> str:
    """Prefix an apostrophe so a spreadsheet shows the text instead of evaluating it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


# --- introductions: met or not ----------------------------------------------------------------------------------
#
# What came of an introduction, as one side answered it (`/match outcome`), worded the one way every view says
# it: the reply to the answer and the dashboard's city page.

ANSWER_LABELS = {  # messages: shown in the reader's language wherever they are used
    "not-met": N_("not met yet"),
    "shared-practice": N_("met, a shared practice"),
    "joint-proposal": N_("met, a joint proposal"),
    "site-visit": N_("met, a site visit"),
    "nothing-yet": N_("met, nothing yet"),
}
NOT_ANSWERED = N_("not answered")


def answer_label(answer: tuple[bool, str] | None) -> str:
    """(met, outcome) as one side answered, or None when it has not."""
    if answer is None:
        return NOT_ANSWERED
    met, outcome = answer
    return ANSWER_LABELS[outcome if met else "not-met"]
