"""The ledger owns a row's whole life: no module but handlers/ledger.py and storage/ledger_queries.py writes a
delivery row's status, claim or attempts, makes or changes rows wholesale, or spells a row's key.

Read from the source (ast), not from a run: a write on a path no test takes is found too. Each rule is first shown
to catch a write it is about, in a module of its own and slipped into a real module, then the tree is read.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OWNERS = frozenset({"handlers/ledger.py", "storage/ledger_queries.py"})
READ = ("bot", "handlers", "core", "storage")
# Columns only `delivery` has: writing any of them anywhere is writing a ledger row.
DELIVERY_ONLY = frozenset({"claimed_by", "claim_expires_at", "attempted_at", "next_attempt_at", "attempts"})
# Columns other tables have too (an event's status, a check-in's sent_at): a write counts when the object written
# is known to be a ledger row.
SHARED = frozenset({"status", "key", "sent_at", "late", "error", "due_at", "recipient"})
WHOLESALE = frozenset({"update", "insert", "delete"})
# Calls whose `key=`/`name=` names a ledger row: the value must come from a builder of handlers.ledger.
KEYED_CALLS = frozenset({"queue", "queue_report", "queue_notices", "delivery_exists", "Delivery"})


def _mentions_ledger_row(node: ast.AST) -> bool:
    """An expression that yields ledger rows: `Delivery`, or a call into storage.ledger_queries."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and inner.id == "Delivery":
            return True
        if (
            isinstance(inner, ast.Attribute)
            and isinstance(inner.value, ast.Name)
            and inner.value.id == "ledger_queries"
        ):
            return True
    return False


def _spelled(node: ast.AST) -> bool:
    """A string made on the spot: a literal, an f-string, a concatenation or a join."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and (_spelled(node.left) or _spelled(node.right)):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("join", "format")


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


class _Reader(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.found: list[str] = []
        self.rows: list[set[str]] = [set()]  # names bound to ledger rows, per function

    def _say(self, node: ast.AST, what: str) -> None:
        self.found.append(f"{self.path}:{getattr(node, 'lineno', 0)}: {what}")

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        rows = {
            arg.arg
            for arg in [*node.args.args, *node.args.kwonlyargs]
            if arg.annotation is not None and _mentions_ledger_row(arg.annotation)
        }
        self.rows.append(rows)
        self.generic_visit(node)
        self.rows.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def _bind(self, target: ast.AST, value: ast.AST | None) -> None:
        if value is not None and _mentions_ledger_row(value):
            for name in ast.walk(target):
                if isinstance(name, ast.Name):
                    self.rows[-1].add(name.id)

    def _written(self, target: ast.AST) -> None:
        for node in ast.walk(target):
            if not isinstance(node, ast.Attribute) or not isinstance(node.ctx, ast.Store):
                continue
            named = isinstance(node.value, ast.Name) and (
                node.value.id in self.rows[-1] or "deliver" in node.value.id.lower()
            )
            row = named or _mentions_ledger_row(node.value)
            if node.attr in DELIVERY_ONLY or (node.attr in SHARED and row):
                self._say(node, f"writes a ledger row's {node.attr}")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._written(target)
            self._bind(target, node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._written(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._written(node.target)
        self._bind(node.target, node.value)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._bind(node.target, node.iter)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        callee = _callee(node)
        if callee in WHOLESALE and node.args and _mentions_ledger_row(node.args[0]):
            self._say(node, f"{callee}() on the ledger's table")
        if callee == "setattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            target = node.args[0]
            row = isinstance(target, ast.Name) and target.id in self.rows[-1]
            if node.args[1].value in DELIVERY_ONLY or (node.args[1].value in SHARED and row):
                self._say(node, f"setattr() of a ledger row's {node.args[1].value}")
        if callee == "Delivery":
            self._say(node, "makes a ledger row")
        if callee in ("key", "_key") and isinstance(node.func, ast.Attribute):
            self._say(node, "builds a ledger key by hand")
        if callee in KEYED_CALLS:
            for keyword in node.keywords:
                if keyword.arg in ("key", "name") and _spelled(keyword.value):
                    self._say(node, f"spells a ledger key ({keyword.arg}=) instead of asking handlers.ledger")
            if callee == "queue_report" and len(node.args) >= 3 and _spelled(node.args[2]):
                self._say(node, "spells a report's key instead of asking handlers.ledger")
        self.generic_visit(node)


def ledger_writes(source: str, path: str) -> list[str]:
    reader = _Reader(path)
    reader.visit(ast.parse(source, path))
    return reader.found


def modules() -> list[tuple[str, str]]:
    found = []
    for top in READ:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in OWNERS:
                continue
            found.append((relative, path.read_text(encoding="utf-8")))
    return found


CAUGHT = {
    "a status set on a row": ("def f(session, delivery_id):\n"
                              "    row = session.get(Delivery, delivery_id)\n"
                              "    row.status = 'sent'\n"),
    "a claim cleared": "def f(d):\n    d.claimed_by = d.claim_expires_at = None\n",
    "attempts counted": "def f(row):\n    row.attempts += 1\n",
    "a parameter typed as a row": "def f(item: Delivery) -> None:\n    item.key = 'x'\n",
    "a loop over the ledger's rows": ("def f(session):\n"
                                      "    for each in ledger_queries.deliveries_for(session=session, event_id=1):\n"
                                      "        each.status = 'withdrawn'\n"),
    "an UPDATE of the table": "def f(session):\n    session.execute(update(Delivery).values(status='withdrawn'))\n",
    "the table's UPDATE": "def f(s):\n    s.execute(update(Delivery.__table__).values(body=None))\n",
    "a row made outside the ledger": "def f(s):\n    s.add(Delivery(key='k', kind='notice'))\n",
    "a digest key spelled by hand": ("def f(s, w, e):\n"
                                     "    return ledger_queries.delivery_exists(session=s, key=f'digest:{w}:{e}')\n"),
    "a notice name spelled by hand": "def f(s, n, now, w):\n    queue_notices(s, n, now=now, name='digest:' + w)\n",
    "a key through the generic builder": "def f(i, c):\n    return ledger.key('broadcast', i, c)\n",
    "a report key spelled": "def f(s, m, now):\n    ledger.queue_report(s, m, 'report:x', 'body', now)\n",
    "setattr of a claim": "def f(row):\n    setattr(row, 'claimed_by', None)\n",
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CAUGHT))
def test_each_rule_catches_the_write_it_is_about(case):
    assert ledger_writes(CAUGHT[case], f"<{case}>"), f"{case} was not caught"


def test_the_rules_leave_other_tables_alone():
    """An event's status, a goal's key, a check-in's sent time: not the ledger's."""
    source = (
        "def f(session, event, goal, checkin, stats):\n"
        "    event.status = 'cancelled'\n"
        "    goal.status = 'done'\n"
        "    checkin.sent_at = now\n"
        "    stats.late += 1\n"
        "    ledger.queue(session, kind=RowKind.NOTICE, key=ledger.broadcast_key(1, 'c'), recipient='x', due=now)\n"
    )
    assert ledger_writes(source, "<others>") == []


SLIPPED = [
    ("handlers/event.py", "def broadcast_cancel(", "    ledger_queries.deliveries_for(session=None)[0].status = 'x'\n"),
    ("handlers/jobs.py", "def queue_digests(",
     "    for d in ledger_queries.deliveries_for(session=None):\n        d.attempts = 0\n"),
    ("bot/delivery.py", "    def _record(",
     "        delivery = session.get(Delivery, 1)\n        delivery.status = 'sent'\n"),
    ("handlers/city.py", "def tell_organisers(",
     "    queue(None, kind='notice', key=f'joinreqs:{1}', recipient='x', due=None)\n"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "anchor", "slipped"), SLIPPED)
def test_a_write_slipped_into_a_real_module_is_caught(path, anchor, slipped):
    source = (ROOT / path).read_text(encoding="utf-8")
    assert ledger_writes(source, path) == []
    head, sep, tail = source.partition(anchor)
    assert sep, f"{anchor!r} is no longer in {path}"
    # Into the body of the function whose definition starts at the anchor: after its first line.
    line, newline, rest = tail.partition("\n")
    while line.rstrip().endswith((",", "(")) or line.count("(") > line.count(")"):
        more, newline, rest = rest.partition("\n")
        line += "\n" + more
    changed = head + sep + line + newline + slipped + rest
    assert ledger_writes(changed, path), f"a write slipped into {path} was not caught"


def test_no_module_but_the_ledger_writes_a_ledger_row_or_spells_its_key():
    found = [problem for path, source in modules() for problem in ledger_writes(source, path)]
    assert found == []
