"""Forms that ask for the rest of a command, as neutral specs every platform renders its own way (a Slack
modal, a Discord modal): the fields, the command line the answers build, and the field a mistake belongs to.

A button with `form="goal-add"` opens the form; submitting it runs the line it builds, as the person who
submitted it. A handler's mistake names the option it is about (`CommandError.field`), which is the field that
asked for it, so the form can show the mistake next to that field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from core.goals import Status
from core.i18n import N_

GOAL_CHARS = 500
NOTE_CHARS = 500
KEY_CHARS = 20  # what a form keeps of its button's command (a goal id): short enough for any platform's form


class Strings:
    GOAL_ADD_TITLE = N_("Add a goal")
    GOAL_UPDATE_TITLE = N_("Update goal {id}")
    SUBMIT_ADD = N_("Add")
    SUBMIT_UPDATE = N_("Save")
    CLOSE = N_("Cancel")
    # Titles, labels and hints fit every platform's forms (bot/platforms.py's limits; tests/bot/test_platforms.py).
    # A label is a third shorter than the platforms' 45 characters, so each language has room (tests/i18n).
    GOAL_TEXT = N_("What will your city achieve?")
    GOAL_TEXT_HINT = N_("In three months; tangible and checkable, e.g. “Publish the open data strategy”.")
    DUE = N_("Due (empty: in three months)")
    TRACK = N_("Track")
    STATUS = N_("Status")
    NOTE = N_("Note (optional)")
    LEARNED = N_("Key learnings (when closing it)")
    OUTCOME_TITLE = N_("Introduction #{id}")  # the field asks how it went; a 9-digit id still fits Slack's 24
    SUBMIT_OUTCOME = N_("Tell")
    OUTCOME = N_("What came of it")
    # The values are what /match outcome reads (the same in every language); the labels are what a person reads.
    OUTCOMES = (
        ("met shared-practice", N_("Met: a shared practice")),
        ("met joint-proposal", N_("Met: a joint proposal")),
        ("met site-visit", N_("Met: a site visit")),
        ("met nothing-yet", N_("Met: nothing yet")),
        ("not-met", N_("Not met yet")),
    )


@dataclass(frozen=True)
class Field:
    """One question. `kind`: text (one line), paragraph, date (YYYY-MM-DD), choice (of `choices`, or of the
    programme's tracks when `choices_from="tracks"`)."""

    id: str
    label: str
    kind: str = "text"
    optional: bool = False
    max_length: int | None = None
    hint: str | None = None
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    choices_from: str | None = None


@dataclass(frozen=True)
class Form:
    name: str
    title: str  # may hold {key}
    submit: str
    fields: tuple[Field, ...]
    build: Callable[[Mapping[str, str], str], str]  # (answers by field id, the form's key) -> the command line
    key_of: Callable[[str], str] = lambda command: ""  # what the form keeps of its button's command

    def title_for(self, key: str) -> str:
        return self.title.format(id=key)

    def field_for(self, error_field: str | None) -> str:
        """The field a mistake is shown under: the one it names, else the first."""
        ids = [f.id for f in self.fields]
        return error_field if error_field in ids else ids[0]


def quoted(value: str) -> str:
    """A key=value option value on one line, quoted when it has spaces; a double quote inside becomes a single one."""
    value = " ".join(value.split()).replace('"', "'")
    return f'"{value}"' if " " in value else value


def one_line(value: str) -> str:
    return " ".join(value.split())


# --- /goal add ----------------------------------------------------------------------------------------


def _goal_add(answers: Mapping[str, str], key: str) -> str:
    line = f"/goal add {one_line(answers.get('text', ''))}"
    if due := answers.get("due", "").strip():
        line += f" due={quoted(due)}"
    if track := answers.get("track", "").strip():
        line += f" track={quoted(track)}"
    return line


# --- /goal update <id> --------------------------------------------------------------------------------


def _goal_update(answers: Mapping[str, str], key: str) -> str:
    line = f"/goal update {key} {one_line(answers.get('status', ''))}"
    if note := one_line(answers.get("note", "")):
        line += f" {note}"
    if learned := answers.get("learned", "").strip():
        line += f" learned={quoted(learned)}"
    return line


def _last_word(command: str) -> str:
    words = command.split()
    return words[-1][:KEY_CHARS] if words else ""


STATUSES = tuple((status.value, status.value.replace("-", " ").capitalize()) for status in Status)


# --- /match outcome <id> ------------------------------------------------------------------------------


def _match_outcome(answers: Mapping[str, str], key: str) -> str:
    """The follow-up beside an introduced city: its answer is one of OUTCOMES' values, as /match outcome reads it."""
    return f"/match outcome {key} {one_line(answers.get('outcome', ''))}"


FORMS: dict[str, Form] = {
    form.name: form
    for form in (
        Form(
            "goal-add",
            Strings.GOAL_ADD_TITLE,
            Strings.SUBMIT_ADD,
            (
                Field("text", Strings.GOAL_TEXT, "paragraph", max_length=GOAL_CHARS, hint=Strings.GOAL_TEXT_HINT),
                Field("due", Strings.DUE, "date", optional=True),
                Field("track", Strings.TRACK, "choice", optional=True, choices_from="tracks"),
            ),
            _goal_add,
        ),
        Form(
            "goal-update",
            Strings.GOAL_UPDATE_TITLE,
            Strings.SUBMIT_UPDATE,
            (
                Field("status", Strings.STATUS, "choice", choices=STATUSES),
                Field("note", Strings.NOTE, "text", optional=True, max_length=NOTE_CHARS),
                Field("learned", Strings.LEARNED, "paragraph", optional=True, max_length=NOTE_CHARS),
            ),
            _goal_update,
            key_of=_last_word,
        ),
        Form(
            "match-outcome",
            Strings.OUTCOME_TITLE,
            Strings.SUBMIT_OUTCOME,
            (Field("outcome", Strings.OUTCOME, "choice", choices=Strings.OUTCOMES),),
            _match_outcome,
            key_of=_last_word,
        ),
    )
}


@dataclass
class Choices:
    """Where a form's dynamic choices come from (`choices_from`), filled by the caller from the database."""

    tracks: list[tuple[str, str]] = field(default_factory=list)

    def of(self, spec: Field) -> tuple[tuple[str, str], ...]:
        if spec.choices_from == "tracks":
            return tuple(self.tracks)
        return spec.choices
