"""Two real `citypeers run` processes on one PostgreSQL database, each with its own scheduler, wake at the same
instants six times; each is killed in turn (SIGKILL: once mid-batch, once between wake-ups) and restarted. Every
reminder arrives exactly once, and no scheduler complains.

Real time (the schedulers wake on the wall clock): six events a few seconds apart, each with a `1m` reminder to a
channel and to four people, due from about half a minute after the test starts.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from storage.db import make_engine
from tests.e2e.test_reminders import ADMIN, LABS, run, typed
from tests.support.botprocess import BotProcess
from tests.support.fakeslack import Call, FakeSlack

pytestmark = pytest.mark.slow  # real processes killed in turn, on real time

PEOPLE = ["U0P001", "U0P002", "U0P003", "U0P004"]
RECIPIENTS = [LABS, *PEOPLE]
WAKE_UPS = 6
SPACING = timedelta(seconds=8)  # between wake-ups: room for a batch, a claim to lapse and a restart
SETTINGS = {
    "citypeers_sweep_seconds": "1",
    "citypeers_claim_seconds": "3",  # a killed process's rows are taken over three seconds after its claim
    "citypeers_send_per_second": "2",  # five messages a wake-up: a batch lasts two seconds, time to die in
}
# What a scheduler in trouble writes: the bug this guards against, a job that failed, a wake-up skipped or dropped.
SCHEDULER_TROUBLE = (
    "JobLookupError",
    "Exception in thread APScheduler",
    "raised an exception",
    "was missed by",
    "maximum number of running instances",
    "unhealthy",
)


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        for user in (ADMIN, *PEOPLE):
            fake.set_user(user)
        yield fake
        assert not fake.problems, fake.problems


def title(wake_up: int) -> str:
    return f"Wake {wake_up}"


def reminders(slack: FakeSlack, wake_up: int, recipient: str) -> list[Call]:
    return [
        c
        for c in slack.calls("chat.postMessage")
        if c.ok and c.params.get("channel") == recipient and f"{title(wake_up)} starts" in c.params.get("text", "")
    ]


def first_reminder(slack: FakeSlack, wake_up: int) -> Call | None:
    sent = [c for recipient in RECIPIENTS for c in reminders(slack, wake_up, recipient)]
    return min(sent, key=lambda c: c.at) if sent else None


def wait_for_wake_up(slack: FakeSlack, wake_up: int) -> None:
    slack.wait_for(
        lambda: all(reminders(slack, wake_up, r) for r in RECIPIENTS), timeout=60, what=f"every reminder of {wake_up}"
    )


def sender_of(call: Call, processes: dict[str, BotProcess]) -> BotProcess:
    token = call.headers.get("authorization", "").removeprefix("Bearer ")
    return processes[token]


def wait_until_settled(database_url: str) -> None:
    """Until no message is on its way (claimed, not yet recorded): a kill now falls between wake-ups."""
    engine = make_engine(database_url)
    try:
        deadline = time.monotonic() + 30
        while True:
            with engine.connect() as connection:
                sending = connection.execute(text("SELECT count(*) FROM delivery WHERE status = 'sending'")).scalar()
            if not sending:
                return
            assert time.monotonic() < deadline, f"{sending} messages still on their way"
            time.sleep(0.05)  # polling the processes' progress, not timing anything
    finally:
        engine.dispose()


def restart(bot: BotProcess) -> None:
    bot.kill()
    bot.start()


def kill_mid_batch(slack: FakeSlack, wake_up: int, processes: dict[str, BotProcess]) -> BotProcess:
    """Kill whichever process sends the first reminder of `wake_up`, right then, and start it again."""
    first = slack.wait_for(lambda: first_reminder(slack, wake_up), timeout=60, what=f"the first reminder of {wake_up}")
    sender = sender_of(first, processes)
    sender.kill()
    arrived = sum(len(reminders(slack, wake_up, r)) for r in RECIPIENTS)
    assert arrived < len(RECIPIENTS), "the kill came after the batch, not in the middle of it"
    sender.start()
    return sender


@pytest.mark.slow(seconds=60)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_processes_killed_in_turn_deliver_every_reminder_of_six_wake_ups_once(slack, database_url):
    one = BotProcess(slack, database_url, admins=ADMIN, slack_bot_token="xoxb-one", **SETTINGS)
    two = BotProcess(slack, database_url, admins=ADMIN, slack_bot_token="xoxb-two", **SETTINGS)
    processes = {"xoxb-one": one, "xoxb-two": two}
    try:
        one.start()
        two.start()
        first_due = datetime.now(UTC) + timedelta(seconds=30)
        dues = [first_due + k * SPACING for k in range(WAKE_UPS)]
        for wake_up, due in enumerate(dues, start=1):
            start = typed(due + timedelta(minutes=1))
            line = f'/event add {title(wake_up)} start="{start}" remind=1m channel=<#{LABS}|labs>'
            assert run(one if wake_up % 2 else two, ADMIN, line).startswith("Scheduled")
        for n, person in enumerate(PEOPLE):  # RSVPs arrive at both processes
            for event_id in range(1, WAKE_UPS + 1):
                assert run(two if n % 2 else one, person, f"/event rsvp {event_id}").startswith("You are attending")
        assert datetime.now(UTC) < first_due - timedelta(seconds=3), "setting up took too long for the plan"

        # 1: both alive.
        wait_for_wake_up(slack, 1)

        # 2: whichever process sends the first reminder dies right then, mid-batch; the other takes over its rows.
        killed_mid_batch = kill_mid_batch(slack, 2, processes)
        wait_for_wake_up(slack, 2)

        # 3: both alive again; then the other process dies between wake-ups, and comes back.
        wait_for_wake_up(slack, 3)
        wait_until_settled(database_url)
        restart(two if killed_mid_batch is one else one)

        # 4: both alive.
        wait_for_wake_up(slack, 4)

        # 5: mid-batch again, whichever sends first.
        kill_mid_batch(slack, 5, processes)

        for wake_up in (5, 6):
            wait_for_wake_up(slack, wake_up)
        time.sleep(5)  # more sweeps and claim lapses: nothing may be sent twice
    finally:
        one.stop()
        two.stop()

    counts = {(w, r): len(reminders(slack, w, r)) for w in range(1, WAKE_UPS + 1) for r in RECIPIENTS}
    assert {key: n for key, n in counts.items() if n != 1} == {}, "each reminder exactly once"
    for name, bot in processes.items():
        log = bot.log_path.read_text(errors="replace")
        trouble = [line for line in log.splitlines() if any(sign in line for sign in SCHEDULER_TROUBLE)]
        assert trouble == [], f"{name}: {trouble}"
