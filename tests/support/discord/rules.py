"""Discord's documented rules that its schema leaves out or states differently (the documentation wins), and the
mentions policy CityPeers holds itself to: limits of messages, components, modals, embeds, commands, scheduled
events and uploads; which answer fits which interaction."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from tests.support.discord.constants import (
    ACTION_ROWS,
    BUTTON_LABEL_CHARS,
    BUTTONS_PER_ROW,
    CHOICE_VALUE_CHARS,
    CONTENT_CHARS,
    CUSTOM_ID_CHARS,
    EMBED_TOTAL_CHARS,
    EMBEDS,
    EPHEMERAL,
    INTEGER,
    IS_COMPONENTS_V2,
    MODAL_COMPONENTS,
    MODAL_TITLE_CHARS,
    NUMBER,
    RESPONSE_FLAGS,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    V2_COMPONENTS,
)
from tests.support.discord.routes import Upload
from tests.support.discord.schema import ANSWERS_FOR, CALLBACK_SCHEMAS, Findings, spec


def _custom_id(value: Any, where: str, out: Findings) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= CUSTOM_ID_CHARS:
        size = len(value) if isinstance(value, str) else type(value).__name__
        out.refuse(f"{where}: custom_id is {size} characters; Discord allows 1-{CUSTOM_ID_CHARS}")


def _length(value: Any, low: int, high: int, what: str, out: Findings) -> None:
    if isinstance(value, str) and not low <= len(value) <= high:
        out.refuse(f"{what} is {len(value)} characters; Discord allows {low}-{high}")


def _mentions_policy(body: Mapping[str, Any], out: Findings, where: str) -> None:
    mentions = body.get("allowed_mentions")
    if not isinstance(mentions, dict):
        out.warn(
            f"{where}: no allowed_mentions: Discord would then ping every user, role and @everyone the text names; "
            'send {"parse": [], "users": [...]}'
        )
        return
    parse = mentions.get("parse") or []
    if isinstance(parse, list):
        if "everyone" in parse or "roles" in parse:
            out.warn(f"{where}: allowed_mentions.parse {parse} lets typed @everyone/@here or roles ping")
        elif parse:
            out.warn(f"{where}: allowed_mentions.parse {parse} lets any typed user mention ping; name users instead")
        if "users" in parse and mentions.get("users"):
            out.refuse(f"{where}: allowed_mentions parse 'users' and a users list are mutually exclusive")
        if "roles" in parse and mentions.get("roles"):
            out.refuse(f"{where}: allowed_mentions parse 'roles' and a roles list are mutually exclusive")
    if mentions.get("roles"):
        out.warn(f"{where}: allowed_mentions.roles pings roles {mentions['roles']}")


def _embed_limits(embeds: Any, out: Findings, where: str) -> None:
    if not isinstance(embeds, list):
        return
    if len(embeds) > EMBEDS:
        out.refuse(f"{where}: {len(embeds)} embeds; Discord allows {EMBEDS}")
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        texts = [("title", embed.get("title"), 256), ("description", embed.get("description"), 4096)]
        texts.append(("footer.text", (embed.get("footer") or {}).get("text"), 2048))
        texts.append(("author.name", (embed.get("author") or {}).get("name"), 256))
        fields = embed.get("fields") or []
        if len(fields) > 25:
            out.refuse(f"{where}: embeds[{i}] has {len(fields)} fields; Discord allows 25")
        for j, item in enumerate(fields if isinstance(fields, list) else []):
            if isinstance(item, dict):
                texts.append((f"fields[{j}].name", item.get("name"), 256))
                texts.append((f"fields[{j}].value", item.get("value"), 1024))
        for name, text, limit in texts:
            if isinstance(text, str):
                total += len(text.strip())
                if len(text.strip()) > limit:
                    out.refuse(f"{where}: embeds[{i}].{name} is {len(text)} characters; Discord allows {limit}")
    if total > EMBED_TOTAL_CHARS:
        out.refuse(f"{where}: embeds hold {total} characters together; Discord allows {EMBED_TOTAL_CHARS}")


def walk_components(components: Any) -> Iterator[dict[str, Any]]:
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict):
            yield component
            yield from walk_components(component.get("components"))
            for key in ("component", "accessory"):
                if isinstance(component.get(key), dict):
                    yield from walk_components([component[key]])


def _button_limits(button: dict[str, Any], where: str, out: Findings) -> None:
    style = button.get("style")
    label = button.get("label")
    if isinstance(label, str) and len(label) > BUTTON_LABEL_CHARS:
        out.refuse(f"{where}: button label is {len(label)} characters; Discord allows {BUTTON_LABEL_CHARS}")
    if style == 5:
        if not button.get("url") or "custom_id" in button:
            out.refuse(f"{where}: a link button (style 5) needs a url and no custom_id")
    elif style == 6:
        if not button.get("sku_id") or {"custom_id", "label", "url", "emoji"} & set(button):
            out.refuse(f"{where}: a premium button (style 6) has an sku_id and nothing else")
    else:
        _custom_id(button.get("custom_id"), where, out)
        if "url" in button:
            out.refuse(f"{where}: only link buttons (style 5) have a url")
    if style != 6 and not label and not button.get("emoji"):
        out.refuse(f"{where}: a button needs a label or an emoji")


def _select_limits(select: dict[str, Any], where: str, out: Findings) -> None:
    _custom_id(select.get("custom_id"), where, out)
    _length(select.get("placeholder"), 0, 150, f"{where}: placeholder", out)
    low, high = select.get("min_values", 1), select.get("max_values", 1)
    if isinstance(low, int) and isinstance(high, int) and not 0 <= low <= high <= 25:
        out.refuse(f"{where}: min_values {low} and max_values {high} must satisfy 0 <= min <= max <= 25")
    if select.get("type") == 3:
        options = select.get("options") or []
        if not 1 <= len(options) <= 25:
            out.refuse(f"{where}: a string select has {len(options)} options; Discord allows 1-25")
        for j, option in enumerate(options):
            if isinstance(option, dict):
                for key in ("label", "value", "description"):
                    _length(option.get(key), 1 if key != "description" else 0, 100, f"{where}: options[{j}].{key}", out)


def _component_limits(components: Any, out: Findings, where: str, *, v2: bool) -> None:
    if not isinstance(components, list):
        return
    ids = [c.get("custom_id") for c in walk_components(components) if isinstance(c.get("custom_id"), str)]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        out.refuse(f"{where}: custom_id(s) {repeated} used twice in one message")
    if v2:
        total = sum(1 for _ in walk_components(components))
        if total > V2_COMPONENTS:
            out.refuse(f"{where}: {total} components; an IS_COMPONENTS_V2 message allows {V2_COMPONENTS}")
        for component in walk_components(components):
            if component.get("type") == 2:
                _button_limits(component, f"{where}: button", out)
        return
    if len(components) > ACTION_ROWS:
        out.refuse(f"{where}: {len(components)} action rows; Discord allows {ACTION_ROWS}")
    for i, row in enumerate(components):
        if not isinstance(row, dict):
            continue
        if row.get("type") != 1:
            out.refuse(f"{where}: components[{i}] is type {row.get('type')}; without IS_COMPONENTS_V2 only action rows")
            continue
        children = [c for c in row.get("components") or [] if isinstance(c, dict)]
        buttons = [c for c in children if c.get("type") == 2]
        selects = [c for c in children if c.get("type") in (3, 5, 6, 7, 8)]
        if not children:
            out.refuse(f"{where}: action row {i} is empty")
        if len(buttons) > BUTTONS_PER_ROW:
            out.refuse(f"{where}: action row {i} holds {len(buttons)} buttons; Discord allows {BUTTONS_PER_ROW}")
        if selects and len(children) > 1:
            out.refuse(f"{where}: action row {i}: a select menu fills its row alone")
        for j, child in enumerate(children):
            place = f"{where}: components[{i}].components[{j}]"
            if child.get("type") == 2:
                _button_limits(child, place, out)
            elif child in selects:
                _select_limits(child, place, out)
            else:
                out.refuse(f"{place} is type {child.get('type')}: not allowed in a message's action row")


def message_limits(
    body: Mapping[str, Any], out: Findings, where: str, *, create: bool, flags_allowed: int, has_files: bool = False
) -> None:
    """Documented limits of a message body (create or edit, channel or interaction) and the mentions policy."""
    flags = body.get("flags") or 0
    if isinstance(flags, int) and flags & ~flags_allowed:
        bits = [f"1<<{b}" for b in range(32) if flags & ~flags_allowed & (1 << b)]
        out.refuse(f"{where}: flags {flags} sets {', '.join(bits)}, which cannot be set here")
    v2 = isinstance(flags, int) and bool(flags & IS_COMPONENTS_V2)
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_CHARS:
        out.refuse(f"{where}: content is {len(content)} characters; Discord allows {CONTENT_CHARS}")
    if v2 and any(body.get(k) for k in ("content", "embeds", "poll", "sticker_ids")):
        out.refuse(f"{where}: an IS_COMPONENTS_V2 message carries only components")
    _embed_limits(body.get("embeds"), out, where)
    _component_limits(body.get("components"), out, where, v2=v2)
    keys = ("embeds", "components", "sticker_ids", "poll")
    if create and not (isinstance(content, str) and content.strip()) and not has_files and not any(map(body.get, keys)):
        out.refuse(f"{where}: an empty message (no content, embeds, components or files)", code=50006)
    _mentions_policy(body, out, where)


def _modal_limits(data: Any, out: Findings, where: str) -> None:
    if not isinstance(data, dict):
        return
    _length(data.get("title"), 1, MODAL_TITLE_CHARS, f"{where}: modal title", out)
    _custom_id(data.get("custom_id"), f"{where}: modal", out)
    components = [c for c in data.get("components") or [] if isinstance(c, dict)]
    if not 1 <= len(components) <= MODAL_COMPONENTS:
        out.refuse(f"{where}: a modal holds 1-{MODAL_COMPONENTS} components; this one {len(components)}")
    inputs: list[tuple[str, dict[str, Any], bool]] = []  # (where, text input, in an action row)
    for i, component in enumerate(components):
        place = f"{where}: components[{i}]"
        kind = component.get("type")
        if kind == 1:
            children = [c for c in component.get("components") or [] if isinstance(c, dict)]
            if len(children) != 1 or children[0].get("type") != 4:
                out.refuse(f"{place}: an action row in a modal holds exactly one text input")
            inputs.extend((place, c, True) for c in children if c.get("type") == 4)
        elif kind == 18:
            _length(component.get("label"), 1, 45, f"{place}: label", out)
            _length(component.get("description"), 1, 100, f"{place}: description", out)
            inner = component.get("component")
            if isinstance(inner, dict) and inner.get("type") == 4:
                inputs.append((place, inner, False))
        elif kind != 10:
            out.refuse(f"{place} is type {kind}: a modal holds labels, text displays or action rows of text inputs")
    ids = [c.get("custom_id") for _, c, _ in inputs]
    if len(set(ids)) != len(ids):
        out.refuse(f"{where}: text inputs share a custom_id: {ids}")
    for place, text_input, in_row in inputs:
        _custom_id(text_input.get("custom_id"), place, out)
        if text_input.get("style") not in (1, 2):
            out.refuse(f"{place}: text input style must be 1 (short) or 2 (paragraph)")
        if in_row and not text_input.get("label"):
            out.refuse(f"{place}: a text input in an action row needs a label")
        _length(text_input.get("label"), 1, 45, f"{place}: text input label", out)
        _length(text_input.get("placeholder"), 0, 100, f"{place}: placeholder", out)
        low, high = text_input.get("min_length", 0), text_input.get("max_length", 4000)
        if isinstance(low, int) and isinstance(high, int):
            if not 0 <= low <= 4000 or not 1 <= high <= 4000 or low > high:
                out.refuse(f"{place}: min_length {low} / max_length {high} out of 0-4000 or crossed")
            _length(text_input.get("value"), 0, high, f"{place}: value", out)


def interaction_response_problems(body: Any, *, interaction_type: int | None = None) -> list[str]:
    """What is wrong with an answer to an interaction (the bot's HTTP answer, or a callback it posted): Discord's
    schema for its callback type, the documented limits, unknown keys, and the mentions policy. With
    `interaction_type`, also whether that answer is allowed for that kind of interaction."""
    return interaction_findings(body, interaction_type).all()


def interaction_findings(body: Any, interaction_type: int | None) -> Findings:
    out = Findings()
    if not isinstance(body, dict):
        out.refuse(f"an interaction answer must be a JSON object, not {type(body).__name__}")
        return out
    kind = body.get("type")
    if kind not in CALLBACK_SCHEMAS:
        out.refuse(f"interaction answer type {kind!r} is not one of 1, 4, 5, 6, 7, 8, 9")
        return out
    schema = spec()
    where = f"interaction answer type {kind}"
    schema.check(("callback", kind), body, out, where=where)
    data = body.get("data")
    if isinstance(data, dict):
        keys = schema.data_keys[kind]
        unknown = sorted(set(data) - keys) if keys is not None else []
        if unknown:
            out.warn(f"{where}: unknown key(s) in data {unknown}: not in Discord's schema, Discord ignores them")
    if kind == 4:
        if not isinstance(data, dict):
            out.refuse(f"{where}: a message answer without data is an empty message", code=50006)
        else:
            message_limits(data, out, where, create=True, flags_allowed=RESPONSE_FLAGS)
    elif kind == 7 and isinstance(data, dict):
        message_limits(data, out, where, create=False, flags_allowed=RESPONSE_FLAGS)
    elif kind == 5 and isinstance(data, dict):
        flags = data.get("flags") or 0
        if flags not in (0, EPHEMERAL):
            out.refuse(f"{where}: a deferred answer may only carry the EPHEMERAL flag (64), not {flags}")
        ignored = sorted(set(data) - {"flags"})
        if ignored:
            out.warn(f"{where}: a deferred answer shows nothing of {ignored}; send it with the edit of @original")
    elif kind == 6 and data:
        out.warn(f"{where}: a deferred update shows nothing of its data")
    elif kind == 8 and isinstance(data, dict):
        for i, choice in enumerate(data.get("choices") or []):
            if isinstance(choice, dict):
                _length(choice.get("name"), 1, 100, f"{where}: choices[{i}].name", out)
                _length(choice.get("value"), 0, CHOICE_VALUE_CHARS, f"{where}: choices[{i}].value", out)
    elif kind == 9:
        _modal_limits(data, out, where)
    if interaction_type is not None and kind not in ANSWERS_FOR.get(interaction_type, set()):
        allowed = sorted(ANSWERS_FOR.get(interaction_type, set()))
        out.refuse(f"{where} answers an interaction of type {interaction_type}, which takes only {allowed}")
    return out


_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


def _option_limits(options: Any, out: Findings, where: str, budget: list[int]) -> None:
    if not isinstance(options, list):
        return
    if len(options) > 25:
        out.refuse(f"{where}: {len(options)} options; Discord allows 25")
    names = [o.get("name") for o in options if isinstance(o, dict)]
    if len(set(names)) != len(names):
        out.refuse(f"{where}: option names repeat: {names}")
    kinds = {o.get("type") for o in options if isinstance(o, dict)}
    if kinds & {SUB_COMMAND, SUB_COMMAND_GROUP} and kinds - {SUB_COMMAND, SUB_COMMAND_GROUP}:
        out.refuse(f"{where}: subcommands and plain options cannot share a level")
    seen_optional = False
    for option in options:
        if not isinstance(option, dict):
            continue
        name, kind = option.get("name"), option.get("type")
        place = f"{where} {name}"
        if isinstance(name, str) and (not _COMMAND_NAME.match(name) or name != name.lower()):
            out.refuse(f"{place}: option names are 1-32 lowercase letters, digits, - _ '")
        _length(option.get("description"), 1, 100, f"{place}: description", out)
        budget[0] += len(str(name or "")) + len(str(option.get("description") or ""))
        if kind not in (SUB_COMMAND, SUB_COMMAND_GROUP):
            if option.get("required"):
                if seen_optional:
                    out.refuse(f"{place}: required options must come before optional ones")
            else:
                seen_optional = True
        choices = option.get("choices")
        if choices and option.get("autocomplete"):
            out.refuse(f"{place}: autocomplete cannot be set with choices")
        if option.get("autocomplete") and kind not in (STRING, INTEGER, NUMBER):
            out.refuse(f"{place}: only string, integer and number options autocomplete")
        for choice in choices or []:
            if isinstance(choice, dict):
                _length(choice.get("value"), 0, CHOICE_VALUE_CHARS, f"{place}: choice value", out)
                budget[0] += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
        low, high = option.get("min_length"), option.get("max_length")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            out.refuse(f"{place}: min_length {low} > max_length {high}")
        if kind == SUB_COMMAND_GROUP and any(
            isinstance(o, dict) and o.get("type") != SUB_COMMAND for o in option.get("options") or []
        ):
            out.refuse(f"{place}: a subcommand group holds only subcommands")
        if kind == SUB_COMMAND and any(
            isinstance(o, dict) and o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)
            for o in option.get("options") or []
        ):
            out.refuse(f"{place}: a subcommand cannot hold subcommands")
        _option_limits(option.get("options"), out, place, budget)


def commands_limits(commands: Any, out: Findings, where: str) -> None:
    if not isinstance(commands, list):
        return
    by_type: dict[int, list[str]] = {}
    for command in commands:
        if not isinstance(command, dict):
            continue
        kind, name = command.get("type") or 1, command.get("name")
        by_type.setdefault(kind, []).append(name)
        place = f"{where}: /{name}"
        if kind == 1:
            if isinstance(name, str) and (not _COMMAND_NAME.match(name) or name != name.lower()):
                out.refuse(f"{place}: slash command names are 1-32 lowercase letters, digits, - _ '")
            _length(command.get("description"), 1, 100, f"{place}: description", out)
            budget = [len(str(name or "")) + len(str(command.get("description") or ""))]
            _option_limits(command.get("options"), out, place, budget)
            if budget[0] > 8000:
                out.refuse(f"{place}: {budget[0]} characters of names, descriptions and values; Discord allows 8,000")
    for kind, names in by_type.items():
        if len(set(names)) != len(names):
            out.refuse(f"{where}: command names of type {kind} repeat: {names}")
        if len(names) > (100 if kind == 1 else 15):
            out.refuse(f"{where}: {len(names)} commands of type {kind}; Discord allows {100 if kind == 1 else 15}")


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def event_limits(body: Any, out: Findings, where: str, *, current: Mapping[str, Any] | None = None) -> None:
    """An external scheduled event's documented rules; `current` is the event a PATCH changes."""
    if not isinstance(body, dict):
        return
    merged = {**(current or {}), **body}
    _length(body.get("name"), 1, 100, f"{where}: name", out)
    for key in ("scheduled_start_time", "scheduled_end_time"):
        if body.get(key) is not None and _instant(body[key]) is None:
            out.refuse(f"{where}: {key} {body[key]!r} is not an ISO8601 timestamp with an offset")
    if merged.get("entity_type") == 3:
        location = (merged.get("entity_metadata") or {}).get("location")
        if not isinstance(location, str) or not 1 <= len(location) <= 100:
            out.refuse(f"{where}: an EXTERNAL event needs entity_metadata.location of 1-100 characters")
        if merged.get("scheduled_end_time") is None:
            out.refuse(f"{where}: an EXTERNAL event needs scheduled_end_time")
        if merged.get("channel_id") is not None:
            out.refuse(f"{where}: an EXTERNAL event has channel_id null")
    start, end = _instant(merged.get("scheduled_start_time")), _instant(merged.get("scheduled_end_time"))
    if start and end and end <= start:
        out.refuse(f"{where}: scheduled_end_time is not after scheduled_start_time")
    if current is not None and "status" in body:
        before, after = current.get("status"), body["status"]
        allowed = {1: {1, 2, 4}, 2: {2, 3}}.get(before, set())
        if after not in allowed:
            out.refuse(f"{where}: status {before} cannot become {after}")
    elif current is not None and current.get("status") in (3, 4):
        out.refuse(f"{where}: a completed or canceled event cannot be changed")


def upload_index(upload: Upload) -> str:
    found = re.fullmatch(r"files\[(\d+)\]", upload.field)
    return found.group(1) if found else upload.field


def check_uploads(body: Any, files: Sequence[Upload], out: Findings) -> None:
    names = [f.field for f in files]
    for upload in files:
        if not re.fullmatch(r"files\[\d+\]", upload.field):
            out.refuse(f"file part named {upload.field!r}: Discord wants files[n]")
        if not upload.filename:
            out.refuse(f"file part {upload.field} has no filename in its Content-Disposition")
    if len(set(names)) != len(names):
        out.refuse(f"file parts repeat a name: {names}")
    indexes = {upload_index(f) for f in files}
    attachments = body.get("attachments") if isinstance(body, dict) else None
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, dict):
            continue
        ident = attachment.get("id")
        if (isinstance(ident, int) or (isinstance(ident, str) and len(ident) < 5)) and str(ident) not in indexes:
            out.refuse(f"attachments id {ident!r} matches no files[n] part")
