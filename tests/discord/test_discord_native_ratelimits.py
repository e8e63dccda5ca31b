"""Discord's rate-limit buckets are per route and per major parameter (channel, guild, webhook and token): the
client waiting out one channel's spent bucket holds back no request to another channel. Against the fake
Discord's per-route buckets; the waiting is seen through the client's injected sleep, not by timing the test."""

from __future__ import annotations

import threading
import time

from bot.discord.api import DiscordClient, DiscordError, major_of
from tests.support.discord import GENERAL_CHANNEL_ID, DiscordLimits, FakeDiscord

OTHER_CHANNEL = "1310000000000000301"
MESSAGE = {"content": "Doors open at nine", "allowed_mentions": {"parse": []}}


class HeldSleep:
    """The client's sleep and clock: records every wait and moves the clock past it at once; the thread named
    `hold` is kept waiting until `release()`."""

    def __init__(self, hold: str) -> None:
        self.hold = hold
        self.waits: list[tuple[str, float]] = []
        self.waiting = threading.Event()
        self._released = threading.Event()
        self._slept = 0.0
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return time.monotonic() + self._slept

    def __call__(self, seconds: float) -> None:
        name = threading.current_thread().name
        self.waits.append((name, seconds))
        if name == self.hold:
            self.waiting.set()
            self._released.wait(timeout=10)
        with self._lock:
            self._slept += seconds

    def release(self) -> None:
        self._released.set()

    def of(self, name: str) -> list[float]:
        return [seconds for who, seconds in self.waits if who == name]


def test_a_spent_channel_bucket_holds_back_no_send_to_another_channel() -> None:
    with FakeDiscord(rate_limits=DiscordLimits(messages=(1, 30.0))) as discord:
        discord.add_channel(OTHER_CHANNEL, name="city-labs")
        sleep = HeldSleep(hold="channel-a")
        client = DiscordClient(discord.api_url, "discord-bot-token", sleep=sleep, clock=sleep.clock)
        client.request("POST", f"/channels/{GENERAL_CHANNEL_ID}/messages", body=MESSAGE)  # spends channel A's bucket
        outcome: list[object] = []

        def second_to_a() -> None:
            try:
                outcome.append(client.request("POST", f"/channels/{GENERAL_CHANNEL_ID}/messages", body=MESSAGE))
            except DiscordError as error:
                outcome.append(error)

        waiting = threading.Thread(target=second_to_a, name="channel-a")
        waiting.start()
        try:
            assert sleep.waiting.wait(timeout=5), "the second send to channel A should wait for its bucket"
            [wait] = sleep.of("channel-a")
            assert 25 < wait <= 30, wait
            # Channel A is waiting out its 30 s: a send to channel B goes at once.
            sent = client.request("POST", f"/channels/{OTHER_CHANNEL}/messages", body=MESSAGE)
            assert sent["channel_id"] == OTHER_CHANNEL
            main = threading.current_thread().name
            assert all(seconds <= 0.05 for seconds in sleep.of(main)), sleep.waits  # the global pacing at most
            assert len(discord.messages_in(OTHER_CHANNEL)) == 1 and len(discord.messages_in(GENERAL_CHANNEL_ID)) == 1
            assert discord.rate_limited == 0  # and nothing went over a limit
        finally:
            sleep.release()
            waiting.join(timeout=10)
        assert not waiting.is_alive()


def test_buckets_are_split_by_channel_guild_and_webhook_token() -> None:
    assert major_of("POST /channels/123/messages") == "channels/123"
    assert major_of("PATCH /channels/123/messages/{id}") == "channels/123"
    assert major_of("POST /guilds/9/scheduled-events") == "guilds/9"
    assert major_of("PATCH /webhooks/1/tok-en_A/messages/@original") == "webhooks/1/tok-en_A"
    assert major_of("POST /webhooks/1/tokenB") == "webhooks/1/tokenB"
    assert major_of("POST /users/@me/channels") == ""
