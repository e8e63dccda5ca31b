"""A reminder says how long until the event, to the nearest minute, however late in its minute it is sent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.ledger import render as delivery_message
from storage import ledger_queries
from storage.db import unit_of_work
from tests.handlers.conversation import say


def reminder_text(services, minutes_before: int, sent_after_due: timedelta) -> str:
    """The #labs reminder `minutes_before` the event, as worded when sent `sent_after_due` after its instant."""
    with unit_of_work(services.engine) as session:
        (delivery,) = [
            d
            for d in ledger_queries.deliveries_for(session=session, event_id=1)
            if d.key.endswith(f":{minutes_before}:labs")
        ]
        return delivery_message(session, delivery, services.settings, delivery.due_at + sent_after_due).plain()


@pytest.fixture
def lab(services, clock):
    start = (clock.now() + timedelta(days=10)).astimezone(services.settings.default_tz).strftime("%Y-%m-%d 10:00")
    say(services, "ana", f'/event add City Lab start="{start}" remind=7d,1h,1m channel=#labs')
    return services


@pytest.mark.parametrize(
    ("minutes_before", "late", "expected"),
    [
        (1, timedelta(milliseconds=20), "starts in 1 minute:"),
        (1, timedelta(seconds=29), "starts in 1 minute:"),
        (1, timedelta(seconds=31), "starts now:"),
        (60, timedelta(milliseconds=20), "starts in 1 hour:"),
        (7 * 24 * 60, timedelta(milliseconds=20), "starts in 7 days:"),
        (7 * 24 * 60, -timedelta(milliseconds=20), "starts in 7 days:"),
    ],
)
def test_the_lead_time_is_rounded_to_the_nearest_minute(lab, minutes_before, late, expected):
    assert expected in reminder_text(lab, minutes_before, late)
