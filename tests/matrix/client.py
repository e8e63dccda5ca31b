"""A second Matrix client for the tests, over real HTTP: a person who creates rooms, invites the bot, types
commands, reacts and reads what arrives (plain rooms; tests/matrix/e2ee.py reads encrypted ones)."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from tests.matrix.synapse import MatrixHTTPError, Registered

q = urllib.parse.quote


class Person:
    def __init__(self, url: str, account: Registered) -> None:
        self.url = url
        self.user_id = account.user_id
        self.token = account.access_token
        self.since: str | None = None
        self.events: dict[str, list[dict[str, Any]]] = {}  # room -> timeline events seen
        self.invited: list[str] = []

    def request(self, method: str, path: str, body: Any = None, *, timeout: float = 60) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Bearer {self.token}")
        while True:
            try:
                with urllib.request.urlopen(request, timeout=timeout) as answer:
                    return json.loads(answer.read() or b"{}")
            except urllib.error.HTTPError as error:
                text = error.read().decode(errors="replace")
                if error.code == 429:  # a person's client waits out the homeserver's limits too
                    time.sleep(json.loads(text).get("retry_after_ms", 1000) / 1000)
                    continue
                raise MatrixHTTPError(error.code, text) from None

    def create_room(self, *, invite: list[str] = (), encrypted: bool = False, direct: bool = False) -> str:  # type: ignore[assignment]
        body: dict[str, Any] = {"preset": "private_chat", "invite": list(invite), "is_direct": direct}
        if encrypted:
            body["initial_state"] = [
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            ]
        return str(self.request("POST", "/_matrix/client/v3/createRoom", body)["room_id"])

    def invite(self, room: str, user: str) -> None:
        self.request("POST", f"/_matrix/client/v3/rooms/{q(room)}/invite", {"user_id": user})

    def join(self, room: str) -> None:
        self.request("POST", f"/_matrix/client/v3/join/{q(room)}", {})

    def say(self, room: str, body: str, *, html: str | None = None, thread: str | None = None) -> str:
        content: dict[str, Any] = {"msgtype": "m.text", "body": body}
        if thread:
            content["m.relates_to"] = {"rel_type": "m.thread", "event_id": thread, "is_falling_back": True}
        if html is not None:
            content.update({"format": "org.matrix.custom.html", "formatted_body": html})
        path = f"/_matrix/client/v3/rooms/{q(room)}/send/m.room.message/{secrets.token_hex(8)}"
        return str(self.request("PUT", path, content)["event_id"])

    def react(self, room: str, event_id: str, key: str) -> str:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        path = f"/_matrix/client/v3/rooms/{q(room)}/send/m.reaction/{secrets.token_hex(8)}"
        return str(self.request("PUT", path, content)["event_id"])

    def members(self, room: str) -> list[str]:
        answer = self.request("GET", f"/_matrix/client/v3/rooms/{q(room)}/joined_members")
        return list(answer.get("joined", {}))

    def sync(self, timeout_ms: int = 1000) -> None:
        # The whole timeline, not the last 10 events a first sync gives: a test reads everything that was said.
        query = {"timeout": str(timeout_ms), "filter": json.dumps({"room": {"timeline": {"limit": 1000}}})}
        if self.since:
            query["since"] = self.since
        answer = self.request("GET", f"/_matrix/client/v3/sync?{urllib.parse.urlencode(query)}")
        self.since = answer["next_batch"]
        rooms = answer.get("rooms", {})
        for room, data in rooms.get("join", {}).items():
            self.events.setdefault(room, []).extend(data.get("timeline", {}).get("events", []))
        for room in rooms.get("invite", {}):
            if room not in self.invited:
                self.invited.append(room)
                self.join(room)  # a person accepts the bot's direct room

    def messages(self, room: str, sender: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events.get(room, [])
            if e.get("type") in ("m.room.message", "m.room.encrypted") and (sender is None or e.get("sender") == sender)
        ]

    def all_messages(self, sender: str) -> list[tuple[str, dict[str, Any]]]:
        return [(room, e) for room in self.events for e in self.messages(room, sender)]

    def wait_for(self, found: Callable[[], Any], *, timeout: float = 60, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sync()
            result = found()
            if result:
                return result
        seen = [
            (e.get("sender"), str(e.get("content", {}).get("body", ""))[:80]) for r in self.events.values() for e in r
        ]
        raise AssertionError(f"{self.user_id} waited {timeout} s for {what or 'a message'}; seen: {seen[-30:]}")

    def answer_to(
        self, room: str, event_id: str, sender: str, *, timeout: float = 60, after: str | None = None
    ) -> dict[str, Any]:
        """The bot's answer in the thread of `event_id` (the first after the event `after`, when given)."""

        def answer() -> dict[str, Any] | None:
            events = self.messages(room, sender)
            ids = [e["event_id"] for e in events]
            if after in ids:
                events = events[ids.index(after) + 1 :]
            for event in events:
                relates = event.get("content", {}).get("m.relates_to", {})
                if relates.get("event_id") == event_id and relates.get("rel_type") == "m.thread":
                    return event
            return None

        return self.wait_for(answer, timeout=timeout, what=f"an answer to {event_id}")

    def direct_rooms(self) -> list[str]:
        return self.invited
