"""The fake Discord itself: what it refuses, what it accepts, its nonce, rate limits, closed DMs and signatures.

Requests go over real HTTP with urllib, as any client would send them; nothing of the bot is imported. The rate
limiter is driven with explicit instants where the arithmetic matters, and over HTTP with windows short enough
that the test waits well under a second.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.support.discord import (
    APPLICATION_ID,
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    DiscordInteractions,
    DiscordLimits,
    FakeDiscord,
    interaction_response_problems,
)
from tests.support.discord.ratelimits import Limiter
from tests.support.discord.routes import match

AGENT = "DiscordBot (https://example.org/citypeers, 0.1)"
ANA = "1310000000000001001"
BOB = "1310000000000001002"
MESSAGES = f"/channels/{GENERAL_CHANNEL_ID}/messages"
POLICY = {"parse": [], "users": [ANA]}


def rest(
    fake: FakeDiscord,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = "Bot test-token",
    agent: str = AGENT,
    raw: bytes | None = None,
    content_type: str = "application/json",
) -> tuple[int, dict[str, str], Any]:
    """One request as a bot would send it: (status, headers, parsed JSON or None)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"User-Agent": agent}
    if data is not None:
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = token
    request = urllib.request.Request(f"{fake.api_url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status, answer, text = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer, text = error.code, dict(error.headers), error.read()
    return status, answer, json.loads(text) if text else None


def button(custom_id: str, label: str = "Go") -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with FakeDiscord() as discord:
        yield discord


# --- the validator --------------------------------------------------------------------------------------------


def test_a_correct_message_with_components_is_posted_and_listed_newest_first(fake: FakeDiscord):
    body = {
        "content": f"<@{ANA}> Brno would like to meet you. @everyone",
        "allowed_mentions": POLICY,
        "components": [{"type": 1, "components": [button("goal:1:done", "Done"), button("goal:1:later", "Later")]}],
    }
    status, headers, message = rest(fake, "POST", MESSAGES, body)
    assert status == 200, message
    assert isinstance(message["id"], str) and message["id"].isdigit()
    assert message["channel_id"] == GENERAL_CHANNEL_ID
    assert message["mentions"] == [{"id": ANA}] and message["mention_everyone"] is False
    assert "X-RateLimit-Bucket" not in headers  # no rate limits asked for: Discord calls the headers optional
    rest(fake, "POST", MESSAGES, {"content": "second", "allowed_mentions": {"parse": []}})
    status, _, listed = rest(fake, "GET", f"{MESSAGES}?limit=10")
    assert status == 200
    assert [m["content"] for m in listed] == ["second", body["content"]]
    assert [m["content"] for m in fake.messages_in(GENERAL_CHANNEL_ID)] == [body["content"], "second"]
    assert fake.problems == []


@pytest.mark.parametrize(
    ("body", "refused", "complaint"),
    [
        ({"content": "x" * 2001, "allowed_mentions": POLICY}, True, "content is 2001 characters; Discord allows 2000"),
        (
            {
                "content": "hi",
                "allowed_mentions": POLICY,
                "components": [{"type": 1, "components": [button("x" * 101)]}],
            },
            True,
            "custom_id is 101 characters; Discord allows 1-100",
        ),
        (
            {
                "content": "hi",
                "allowed_mentions": POLICY,
                "components": [{"type": 1, "components": [button(f"b{i}") for i in range(6)]}],
            },
            True,
            "action row 0 holds 6 buttons; Discord allows 5",
        ),
        (
            {
                "content": "hi",
                "allowed_mentions": POLICY,
                "components": [{"type": 1, "components": [button(f"r{i}")]} for i in range(6)],
            },
            True,
            "6 action rows; Discord allows 5",
        ),
        (
            {
                "content": "hi",
                "allowed_mentions": POLICY,
                "components": [{"type": 1, "components": [button("a", "L" * 81)]}],
            },
            True,
            "button label is 81 characters; Discord allows 80",
        ),
        ({"content": "hi"}, False, "no allowed_mentions"),
        ({"content": "@everyone hi", "allowed_mentions": {"parse": ["everyone"]}}, False, "lets typed @everyone"),
        ({"content": "hi", "allowed_mentions": {"parse": ["roles"]}}, False, "lets typed @everyone/@here or roles"),
        ({"content": "hi", "allowed_mentions": POLICY, "text": "hi"}, False, "unknown top-level key(s) ['text']"),
        ({"content": "hi", "allowed_mentions": {"parse": ["users"], "users": [ANA]}}, True, "mutually exclusive"),
        ({"content": " ", "allowed_mentions": POLICY}, True, "an empty message"),
        ({"content": "hi", "allowed_mentions": POLICY, "flags": 64}, True, "cannot be set here"),
        ({"content": "hi", "allowed_mentions": POLICY, "embeds": [{"description": "d" * 4000}] * 2}, True, "8000"),
    ],
)
def test_what_discord_refuses_or_the_policy_forbids_is_a_problem(
    fake: FakeDiscord, body: dict[str, Any], refused: bool, complaint: str
):
    status, _, answer = rest(fake, "POST", MESSAGES, body)
    assert any(complaint in p for p in fake.problems), fake.problems
    if refused:
        assert status == 400 and answer["code"] in (50035, 50006), answer
        assert fake.messages_in(GENERAL_CHANNEL_ID) == []
    else:  # Discord takes it; our rules or the docs forbid it
        assert status == 200
        assert len(fake.messages_in(GENERAL_CHANNEL_ID)) == 1


def test_edits_and_follow_ups_must_carry_allowed_mentions_too(fake: FakeDiscord):
    _, _, message = rest(fake, "POST", MESSAGES, {"content": "one", "allowed_mentions": POLICY})
    status, _, edited = rest(fake, "PATCH", f"{MESSAGES}/{message['id']}", {"content": "two"})
    assert status == 200 and edited["content"] == "two" and edited["edited_timestamp"]
    assert any("PATCH" in p and "no allowed_mentions" in p for p in fake.problems), fake.problems


def test_interaction_answers_are_checked_by_type():
    good = {"type": 4, "data": {"content": "Hi", "flags": 64, "allowed_mentions": {"parse": []}}}
    assert interaction_response_problems(good, interaction_type=2) == []
    assert interaction_response_problems({"type": 5, "data": {"flags": 64}}, interaction_type=2) == []
    assert any(
        "only carry the EPHEMERAL" in p for p in interaction_response_problems({"type": 5, "data": {"flags": 4}})
    )
    assert any("takes only [8]" in p for p in interaction_response_problems(good, interaction_type=4))
    assert any("takes only [4, 5, 9]" in p for p in interaction_response_problems({"type": 6}, interaction_type=2))
    assert any("unknown top-level" in p for p in interaction_response_problems({**good, "ephemeral": True}))
    modal = {
        "type": 9,
        "data": {
            "custom_id": "goal:add",
            "title": "A three-month goal for your city, in a few words",
            "components": [
                {"type": 1, "components": [{"type": 4, "custom_id": f"f{i}", "style": 1, "label": "Goal"}]}
                for i in range(6)
            ],
        },
    }
    problems = interaction_response_problems(modal, interaction_type=2)
    assert any("modal title is 48 characters; Discord allows 1-45" in p for p in problems), problems
    assert any("a modal holds 1-5 components; this one 6" in p for p in problems), problems
    choices = {"type": 8, "data": {"choices": [{"name": f"c{i}", "value": str(i)} for i in range(26)]}}
    assert any("26 items; the schema allows at most 25" in p for p in interaction_response_problems(choices))


# --- nonces, DMs, channels, auth --------------------------------------------------------------------------------


def test_a_repeated_nonce_with_enforce_nonce_returns_the_first_message_and_posts_nothing(fake: FakeDiscord):
    body = {
        "content": "Reminder: City Lab tomorrow",
        "allowed_mentions": POLICY,
        "nonce": "r-42",
        "enforce_nonce": True,
    }
    _, _, first = rest(fake, "POST", MESSAGES, body)
    status, _, again = rest(fake, "POST", MESSAGES, {**body, "content": "a retry"})
    assert status == 200 and again["id"] == first["id"] and again["content"] == "Reminder: City Lab tomorrow"
    assert len(fake.messages_in(GENERAL_CHANNEL_ID)) == 1
    assert [c.deduped for c in fake.calls("POST /channels/{channel_id}/messages")] == [False, True]
    # Without enforce_nonce, the same nonce posts again.
    rest(fake, "POST", MESSAGES, {**body, "enforce_nonce": False})
    assert len(fake.messages_in(GENERAL_CHANNEL_ID)) == 2
    assert fake.problems == []


def test_dm_channels_are_stable_and_closed_dms_answer_50007(fake: FakeDiscord):
    _, _, first = rest(fake, "POST", "/users/@me/channels", {"recipient_id": ANA})
    _, _, second = rest(fake, "POST", "/users/@me/channels", {"recipient_id": ANA})
    assert first["id"] == second["id"] == fake.dm_channel(ANA) and first["type"] == 1
    assert (
        rest(fake, "POST", f"/channels/{first['id']}/messages", {"content": "hi", "allowed_mentions": POLICY})[0] == 200
    )
    fake.close_dms(ANA)
    status, _, answer = rest(
        fake, "POST", f"/channels/{first['id']}/messages", {"content": "hi", "allowed_mentions": POLICY}
    )
    assert (status, answer["code"], answer["message"]) == (403, 50007, "Cannot send messages to this user")
    assert [m["content"] for m in fake.dms_to(ANA)] == ["hi"]
    assert fake.invalid_requests == 1
    assert fake.problems == []


def test_unknown_channels_missing_tokens_odd_agents_and_routes(fake: FakeDiscord):
    status, _, answer = rest(fake, "POST", "/channels/999999999/messages", {"content": "x", "allowed_mentions": POLICY})
    assert (status, answer["code"]) == (404, 10003)
    fake.add_channel("1310000000000000300")
    assert (
        rest(fake, "POST", "/channels/1310000000000000300/messages", {"content": "x", "allowed_mentions": POLICY})[0]
        == 200
    )
    status, _, answer = rest(fake, "POST", MESSAGES, {"content": "x", "allowed_mentions": POLICY}, token=None)
    assert (status, answer) == (401, {"message": "401: Unauthorized", "code": 0})
    assert fake.problems == []
    rest(fake, "GET", MESSAGES, agent="Python-urllib/3.11")
    assert any("User-Agent 'Python-urllib/3.11'" in p for p in fake.problems)
    status, _, _ = rest(fake, "GET", "/guilds/1/members")
    assert status == 404 and any("unexpected call GET /guilds/1/members" in p for p in fake.problems)


def test_files_come_as_multipart_with_payload_json(fake: FakeDiscord):
    png = b"\x89PNG\r\n\x1a\n\r\n--not-a-boundary\r\n\x00\xff"
    boundary = uuid.uuid4().hex
    payload = {
        "content": "Your calendar",
        "allowed_mentions": POLICY,
        "attachments": [{"id": 0, "filename": "chart.png"}],
    }
    raw = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="payload_json"\r\n'
            "Content-Type: application/json\r\n\r\n"
            f"{json.dumps(payload)}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="files[0]"; filename="chart.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + png
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, message = rest(fake, "POST", MESSAGES, raw=raw, content_type=f"multipart/form-data; boundary={boundary}")
    assert status == 200, message
    assert message["attachments"][0]["filename"] == "chart.png" and message["attachments"][0]["size"] == len(png)
    assert fake.files_in(GENERAL_CHANNEL_ID) == [("chart.png", png)]
    assert fake.problems == []


def test_commands_are_replaced_whole_and_checked(fake: FakeDiscord):
    city = {
        "name": "city",
        "description": "Your city",
        "options": [
            {
                "type": 1,
                "name": "show",
                "description": "Show a city",
                "options": [{"type": 3, "name": "name", "description": "City", "required": True, "autocomplete": True}],
            }
        ],
    }
    status, _, registered = rest(fake, "PUT", f"/applications/{APPLICATION_ID}/guilds/{GUILD_ID}/commands", [city])
    assert status == 200 and registered[0]["id"] and registered[0]["guild_id"] == GUILD_ID
    assert [c["name"] for c in fake.commands(GUILD_ID)] == ["city"] and fake.commands() == []
    assert rest(fake, "GET", f"/applications/{APPLICATION_ID}/guilds/{GUILD_ID}/commands")[2][0]["name"] == "city"
    assert fake.problems == []
    status, _, _ = rest(fake, "PUT", f"/applications/{APPLICATION_ID}/commands", [{**city, "name": "City"}])
    assert status == 400 and any("lowercase" in p for p in fake.problems)


def test_scheduled_events_need_an_end_and_a_place_and_the_permission(fake: FakeDiscord):
    event = {
        "name": "City Lab Brno",
        "privacy_level": 2,
        "entity_type": 3,
        "scheduled_start_time": "2030-03-02T09:00:00+00:00",
        "scheduled_end_time": "2030-03-06T17:00:00+00:00",
        "entity_metadata": {"location": "Brno, Czechia"},
    }
    status, _, created = rest(fake, "POST", f"/guilds/{GUILD_ID}/scheduled-events", event)
    assert status == 200 and created["status"] == 1, created
    status, _, edited = rest(fake, "PATCH", f"/guilds/{GUILD_ID}/scheduled-events/{created['id']}", {"status": 4})
    assert status == 200 and fake.scheduled_events(GUILD_ID)[0]["status"] == 4
    assert fake.problems == []
    no_end = {k: v for k, v in event.items() if k != "scheduled_end_time"}
    assert rest(fake, "POST", f"/guilds/{GUILD_ID}/scheduled-events", no_end)[0] == 400
    assert any("needs scheduled_end_time" in p for p in fake.problems)
    fake.deny_permission("CREATE_EVENTS")
    status, _, answer = rest(fake, "POST", f"/guilds/{GUILD_ID}/scheduled-events", event)
    assert (status, answer["code"], answer["message"]) == (403, 50013, "Missing Permissions")


# --- rate limits ------------------------------------------------------------------------------------------------


def test_a_bucket_per_route_and_channel_then_the_global_limit():
    limiter = Limiter(DiscordLimits(messages=(5, 5.0), other=(10, 1.0), global_per_second=8))
    post, _ = match("POST", MESSAGES)
    get, _ = match("GET", MESSAGES)
    assert post is not None and get is not None
    channel = {"channel_id": GENERAL_CHANNEL_ID}
    verdicts = [limiter.take(post, channel, 100.0) for _ in range(5)]
    assert [v.headers["X-RateLimit-Remaining"] for v in verdicts] == ["4", "3", "2", "1", "0"]
    assert {v.headers["X-RateLimit-Reset-After"] for v in verdicts} == {"5.000"}
    assert limiter.take(post, channel, 100.1).wait == pytest.approx(4.9)  # refused: not counted anywhere
    assert limiter.take(post, {"channel_id": "2"}, 100.2).wait == 0.0  # another channel, another bucket
    looked = limiter.take(get, channel, 100.2)  # another route, another bucket
    assert looked.wait == 0.0 and looked.headers["X-RateLimit-Bucket"] != verdicts[0].headers["X-RateLimit-Bucket"]
    assert limiter.take(get, channel, 100.3).wait == 0.0  # the 8th request within a second
    refused = limiter.take(get, channel, 100.5)
    assert refused.global_ and refused.wait == pytest.approx(0.5)
    assert limiter.take(get, channel, 101.0).wait == 0.0  # the five of 100.0 have left the second
    assert limiter.take(post, channel, 105.0).wait == 0.0  # the channel's window reset


def test_over_a_bucket_discord_answers_429_with_its_body_and_headers_then_lets_through():
    with FakeDiscord(rate_limits=DiscordLimits(messages=(2, 0.4))) as fake:
        body = {"content": "hi", "allowed_mentions": POLICY}
        first = rest(fake, "POST", MESSAGES, body)
        assert first[0] == 200
        assert first[1]["X-RateLimit-Limit"] == "2" and first[1]["X-RateLimit-Remaining"] == "1"
        assert 0 < float(first[1]["X-RateLimit-Reset-After"]) <= 0.4
        assert float(first[1]["X-RateLimit-Reset"]) > time.time() - 1
        assert rest(fake, "POST", MESSAGES, body)[0] == 200
        status, headers, answer = rest(fake, "POST", MESSAGES, body)
        assert status == 429
        assert answer["message"] == "You are being rate limited." and answer["global"] is False
        assert isinstance(answer["retry_after"], float) and 0 < answer["retry_after"] <= 0.4
        assert headers["Retry-After"] == "1" and headers["X-RateLimit-Scope"] == "user"
        assert (
            headers["X-RateLimit-Remaining"] == "0" and headers["X-RateLimit-Bucket"] == first[1]["X-RateLimit-Bucket"]
        )
        assert (fake.rate_limited, fake.invalid_requests) == (1, 1)
        time.sleep(answer["retry_after"])
        assert rest(fake, "POST", MESSAGES, body)[0] == 200
        assert len(fake.messages_in(GENERAL_CHANNEL_ID)) == 3
        assert fake.problems == []


def test_the_global_limit_answers_429_global():
    with FakeDiscord(rate_limits=DiscordLimits(global_per_second=3, other=(100, 1.0))) as fake:
        assert [rest(fake, "GET", MESSAGES)[0] for _ in range(3)] == [200, 200, 200]
        status, headers, answer = rest(fake, "GET", MESSAGES)
        assert status == 429 and answer["global"] is True
        assert headers["X-RateLimit-Global"] == "true" and headers["X-RateLimit-Scope"] == "global"


def test_fail_next_answers_what_it_is_told_and_does_nothing(fake: FakeDiscord):
    fake.fail_next("POST /channels/{channel_id}/messages", 429, retry_after=2.5, global_=True)
    fake.fail_next(MESSAGES, 502)
    body = {"content": "hi", "allowed_mentions": POLICY}
    status, headers, answer = rest(fake, "POST", MESSAGES, body)
    assert (status, answer["retry_after"], answer["global"], headers["Retry-After"]) == (429, 2.5, True, "3")
    assert rest(fake, "POST", MESSAGES, body)[0] == 502
    assert rest(fake, "POST", MESSAGES, body)[0] == 200
    assert len(fake.messages_in(GENERAL_CHANNEL_ID)) == 1
    assert fake.rate_limited == 0 and fake.invalid_requests == 1


# --- signed interactions ----------------------------------------------------------------------------------------


class _Bot(BaseHTTPRequestHandler):
    """The least a bot does: verify, PONG, defer a command and edit the deferred reply through the webhook."""

    public_key: Ed25519PublicKey
    discord: FakeDiscord

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            signature = bytes.fromhex(self.headers.get("X-Signature-Ed25519", ""))
            self.public_key.verify(signature, self.headers.get("X-Signature-Timestamp", "").encode() + body)
        except (InvalidSignature, ValueError):
            return self._answer(401, b"invalid request signature")
        interaction = json.loads(body)
        if interaction["type"] == 1:
            return self._answer(200, b'{"type":1}')
        if interaction["type"] == 4:
            return self._answer(200, b'{"type":8,"data":{"choices":[{"name":"Brno","value":"Brno"}]}}')
        threading.Thread(target=self._edit_later, args=(interaction["token"],)).start()
        return self._answer(200, json.dumps({"type": 5, "data": {"flags": 64}}).encode())

    def _edit_later(self, token: str) -> None:
        rest(
            self.discord,
            "PATCH",
            f"/webhooks/{APPLICATION_ID}/{token}/messages/@original",
            {"content": "Brno: 3 goals on track", "allowed_mentions": {"parse": []}},
            token=None,
        )

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if body.startswith(b"{") else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def bot(fake: FakeDiscord) -> Iterator[DiscordInteractions]:
    holder: dict[str, DiscordInteractions] = {}

    class Handler(_Bot):
        discord = fake

        @property
        def public_key(self) -> Ed25519PublicKey:  # type: ignore[override]
            return Ed25519PublicKey.from_public_bytes(bytes.fromhex(holder["client"].public_key_hex))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    holder["client"] = DiscordInteractions(f"http://127.0.0.1:{server.server_address[1]}", fake)
    yield holder["client"]
    server.shutdown()
    server.server_close()


def test_a_signature_verifies_with_the_public_key_and_a_tampered_body_does_not():
    interactions = DiscordInteractions("http://127.0.0.1:9", FakeDiscord())
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(interactions.public_key_hex))
    body, timestamp = b'{"type":1}', "1700000000"
    signature = bytes.fromhex(interactions.signature(timestamp, body))
    key.verify(signature, timestamp.encode() + body)
    with pytest.raises(InvalidSignature):
        key.verify(signature, timestamp.encode() + b'{"type":2}')
    with pytest.raises(InvalidSignature):
        key.verify(signature, b"1700000001" + body)


def test_signed_interactions_reach_the_bot_and_bad_signatures_are_refused(fake: FakeDiscord, bot):
    assert bot.ping().body == {"type": 1}
    answer = bot.command(ANA, "city", "show", {"name": "Brno"})
    assert answer.status == 200 and answer.type == 5 and answer.ephemeral
    command = answer.interaction
    assert command["member"]["user"]["id"] == ANA and "user" not in command and command["version"] == 1
    assert command["data"]["options"] == [
        {"type": 1, "name": "show", "options": [{"name": "name", "type": 3, "value": "Brno"}]}
    ]
    original = fake.wait_for_original(answer.token)
    assert original["content"] == "Brno: 3 goals on track" and original["flags"] & 64
    dm = bot.command(BOB, "goal", "list", [("overdue", 5, True)], guild_id=None)
    assert dm.interaction["user"]["id"] == BOB and "member" not in dm.interaction
    assert dm.interaction["channel_id"] == fake.dm_channel(BOB)
    fake.wait_for_original(dm.token)
    assert fake.problems == []

    body = json.dumps({"type": 1, "id": "1", "token": "t", "application_id": APPLICATION_ID, "version": 1}).encode()
    timestamp = str(int(time.time()))
    assert bot.raw(body).status == 401  # no signature
    assert bot.raw(body, signature="00" * 64, timestamp=timestamp).status == 401
    signed = bot.signature(timestamp, body)
    assert bot.raw(body, signature=signed, timestamp=timestamp).status == 200
    assert bot.raw(body.replace(b'"t"', b'"u"'), signature=signed, timestamp=timestamp).status == 401


def test_clicks_and_modals_carry_what_discord_sends(fake: FakeDiscord, bot):
    _, _, message = rest(
        fake,
        "POST",
        MESSAGES,
        {
            "content": "Goal 1",
            "allowed_mentions": POLICY,
            "components": [{"type": 1, "components": [button("goal:1:done", "Done")]}],
        },
    )
    clicked = bot.click(ANA, message, "goal:1:done")
    assert clicked.interaction["type"] == 3
    assert clicked.interaction["data"] == {"custom_id": "goal:1:done", "component_type": 2}
    assert clicked.interaction["message"]["id"] == message["id"]
    with pytest.raises(AssertionError):
        bot.click(ANA, message, "goal:2:done")
    modal = {
        "type": 9,
        "data": {
            "custom_id": "goal:add",
            "title": "New goal",
            "components": [{"type": 18, "label": "Goal", "component": {"type": 4, "custom_id": "text", "style": 2}}],
        },
    }
    submitted = bot.submit_modal(ANA, "goal:add", {"text": "Pilot a shared bike scheme"}, modal=modal)
    assert submitted.interaction["data"]["components"] == [
        {"type": 18, "id": 0, "component": {"type": 4, "custom_id": "text", "value": "Pilot a shared bike scheme"}}
    ]
    typing = bot.autocomplete(ANA, "city", "show", "name", "Br")
    assert typing.interaction["data"]["options"][0]["options"] == [
        {"name": "name", "type": 3, "value": "Br", "focused": True}
    ]
    assert typing.body["data"]["choices"] == [{"name": "Brno", "value": "Brno"}]
    assert fake.problems == []
