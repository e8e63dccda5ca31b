"""`citypeers backup FILE` copies the Matrix store too: the bot's device, token, sync position and keys, without
which a restored bot would log in again as a new device."""

from __future__ import annotations

import sqlite3

from bot.cli import main


def test_the_matrix_store_is_backed_up_beside_the_database(tmp_path, monkeypatch, capsys):
    live, store, copy = tmp_path / "live.db", tmp_path / "matrix-store.db", tmp_path / "backup.db"
    for path, table in ((live, "kept"), (store, "citypeers_matrix_session")):
        with sqlite3.connect(path) as database:
            database.execute(f"CREATE TABLE {table} (x)")
            database.execute(f"INSERT INTO {table} VALUES ('{path.name}')")
    monkeypatch.chdir(tmp_path)  # no developer .env is read
    for name, value in {
        "MATRIX_HOMESERVER": "https://matrix.example.org",
        "MATRIX_USER_ID": "@citypeers:example.org",
        "MATRIX_PASSWORD": "secret",
        "MATRIX_STORE": str(store),
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["backup", "--db", str(live), str(copy)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith(f"Backed up {live} to {copy}") and out[1].startswith(f"Backed up {store} to {copy}.matrix")
    with sqlite3.connect(f"{copy}.matrix") as database:
        assert database.execute("SELECT x FROM citypeers_matrix_session").fetchall() == [("matrix-store.db",)]


def test_without_matrix_only_the_database_is_copied(tmp_path, monkeypatch, capsys):
    live, copy = tmp_path / "live.db", tmp_path / "backup.db"
    with sqlite3.connect(live) as database:
        database.execute("CREATE TABLE kept (x)")
    monkeypatch.chdir(tmp_path)
    for name in ("MATRIX_HOMESERVER", "MATRIX_USER_ID", "MATRIX_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["backup", "--db", str(live), str(copy)]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
    assert not (tmp_path / "backup.db.matrix").exists()
