"""Input is read once, by the declaration: no command function takes the raw `Args`, splits the free text itself,
reads an option by its string key or calls a value parser on what was typed. Only the dispatcher and the binder
(handlers/dispatch.py, handlers/binding.py) read a line; the parsers live in core/ and are called from there."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
READERS = {"dispatch.py", "binding.py"}  # where a line is read, once, for every command
# Reading a typed line (a command's text and options) by hand: the tokenizer's helpers and the value parsers.
SPLITTERS = {"split_first", "split_list", "parse_args", "split_in_place", "read_value"}
VALUE_PARSERS = {
    "parse_user_ref",
    "parse_channel_ref",
    "parse_count",
    "parse_yes_no",
    "parse_day",
    "parse_when",
    "read_when",
    "parse_zone",
    "parse_duration",
    "parse_durations",
    "parse_status",
    "read_text",
}
# Not command input: a CSV file's columns (the same parsers per kind) and stored reminder offsets.
NOT_COMMAND_INPUT = {("city_import.py", "parse_count"), ("city_import.py", "parse_yes_no")}
NOT_COMMAND_INPUT |= {("event_reminders.py", "parse_durations")}


def hand_reading(source: str, filename: str) -> list[str]:
    """Each place in `source` that reads command input by hand, as `file:line what`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for arg in node.args.args + node.args.kwonlyargs:
                if isinstance(arg.annotation, ast.Name) and arg.annotation.id == "Args":
                    found.append(f"{filename}:{node.lineno} {node.name} takes the raw Args")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in SPLITTERS or (name in VALUE_PARSERS and (filename, name) not in NOT_COMMAND_INPUT):
                found.append(f"{filename}:{node.lineno} calls {name}")
            if name == "get" and isinstance(func, ast.Attribute) and _is_options(func.value):
                found.append(f"{filename}:{node.lineno} reads an option by its key")
        elif isinstance(node, ast.Subscript) and _is_options(node.value):
            found.append(f"{filename}:{node.lineno} reads an option by its key")
        elif isinstance(node, ast.Compare) and any(_is_options(c) for c in node.comparators):
            found.append(f"{filename}:{node.lineno} asks whether an option was typed")
    return found


def _is_options(node: ast.expr) -> bool:
    """`options` or `<something>.options`: the raw options of a typed line."""
    return (isinstance(node, ast.Name) and node.id == "options") or (
        isinstance(node, ast.Attribute) and node.attr == "options"
    )


def test_the_check_sees_each_way_of_reading_by_hand() -> None:
    sample = (
        "def run(context, args: Args):\n"
        "    first, rest = split_first(args.text)\n"
        "    due = parse_day(args.options['due'])\n"
        "    if 'track' in args.options:\n"
        "        track = args.options.get('track')\n"
    )
    found = hand_reading(sample, "sample.py")
    assert sorted(line.split(" ", 1)[1] for line in found) == sorted(
        [
            "run takes the raw Args",
            "calls split_first",
            "calls parse_day",
            "reads an option by its key",
            "asks whether an option was typed",
            "reads an option by its key",
        ]
    )


# Families still being moved onto their declarations: each must fail here until it is (strict), then leaves the list.
PENDING: set[str] = set()
MODULES = sorted(p.name for p in HANDLERS.glob("*.py") if p.name not in READERS and p.name != "__init__.py")


@pytest.mark.parametrize(
    "module",
    [
        pytest.param(m, marks=pytest.mark.xfail(strict=True, reason="still reads by hand")) if m in PENDING else m
        for m in MODULES
    ],
)
def test_no_handler_reads_its_input_by_hand(module: str) -> None:
    path = HANDLERS / module
    assert hand_reading(path.read_text(encoding="utf-8"), module) == []
