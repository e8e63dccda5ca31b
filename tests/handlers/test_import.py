"""`citypeers import cities FILE.csv`: all rows or none, bad rows named by line, any alphabet kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from handlers.city_import import ImportFailed, import_cities
from handlers.types import Services
from tests.handlers.conversation import say

GOOD = """name,country,population,cohort,mentor,tracks,offers,needs
Kraków,PL,800000,ICC 2020,yes,green-economy;tourism,Open data platform for citizens;Heritage-led regeneration,\
Visitor flow sensors
Łódź,pl,,ICC 2020,no,Upskilling,"Revitalisation of the city centre, Księży Młyn",open data platform
Den Haag,NL,,,,,,

Porto,PT,231000,ICC 2020,,green-economy,,"participatory budgeting; sensor networks"
"""


def write(tmp_path: Path, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / "cities.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


@pytest.mark.parametrize("bom", [False, True])
def test_a_good_file_imports_every_city(services: Services, tmp_path: Path, bom: bool) -> None:
    result = import_cities(services, write(tmp_path, GOOD, bom=bom))
    assert result.summary() == "Imported 4 cities (3 offers, 4 needs)."
    say(services, "admin", "/city list")  # the first speaker is the admin
    krakow = say(services, "admin", "/city show Kraków")
    assert krakow.startswith("Kraków · Poland (PL) · population 800,000 · cohort ICC 2020 · mentor city")
    assert "Green economy and local green deals, Green and digital transition in tourism" in krakow
    assert "1. Open data platform for citizens\n2. Heritage-led regeneration" in krakow
    lodz = say(services, "admin", "/city show Łódź")
    assert "Revitalisation of the city centre, Księży Młyn" in lodz and "Poland (PL)" in lodz
    assert "2. sensor networks" in say(services, "admin", "/city show Porto")
    assert "Kraków" in say(services, "admin", "/city list cohort=ICC 2020".replace("ICC 2020", '"ICC 2020"'))


def test_imported_cities_are_matched(services: Services, tmp_path: Path) -> None:
    import_cities(services, write(tmp_path, GOOD))
    say(services, "admin", "/city list")
    text = say(services, "admin", "/match top city=Łódź")
    assert "Kraków offers Open data platform for citizens, which Łódź needs" in text


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(services: Services, tmp_path: Path) -> None:
    say(services, "admin", "/city register Riga country=LV")
    bad = (
        GOOD.rstrip("\n")
        + "\n"
        + "\n".join(
            [
                "Atlantis,XX,,,,,,",  # line 7
                "Riga,LV,,,,,,",  # line 8: already registered
                "Kraków,PL,,,,,,",  # line 9: twice in the file
                "Brno,CZ,many,,,,,",  # line 10
                "Nantes,FR,,,maybe,,,",  # line 11
                "Utrecht,NL,,,,space-travel,,",  # line 12
                ",FR,,,,,,",  # line 13
            ]
        )
    )
    with pytest.raises(ImportFailed) as failure:
        import_cities(services, write(tmp_path, bad))
    problems = failure.value.problems
    assert [p.split(":")[0] for p in problems[:-1]] == [f"line {n}" for n in range(7, 14)]
    assert problems[0] == "line 7: `country=` expects an ISO 3166 two-letter code such as CZ or PT, not `XX`."
    assert problems[1] == "line 8: Riga is already registered."
    assert problems[2] == "line 9: Kraków appears twice in the file (first on line 2)."
    assert "`population=` expects a whole number" in problems[3]
    assert "`mentor=` expects yes or no" in problems[4]
    assert "`space-travel` is not a track" in problems[5]
    assert problems[6] == "line 13: Name the city."
    assert problems[-1] == "Nothing imported: 7 bad rows."
    assert say(services, "admin", "/city list").startswith("1 city")


def test_header_and_encoding_problems(services: Services, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="the header lacks country"):
        import_cities(services, write(tmp_path, "name,population\nBrno,1\n"))
    with pytest.raises(ImportFailed, match="unknown columns budget"):
        import_cities(services, write(tmp_path, "name,country,budget\nBrno,CZ,1\n"))
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,country\nKraków,PL\n".encode("latin-1"))
    with pytest.raises(ImportFailed, match="is not UTF-8"):
        import_cities(services, path)


def test_the_command_line(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD, bom=True)
    assert main(["import", "cities", str(path), "--db", database_url]) == 0
    assert capsys.readouterr().out.strip() == "Imported 4 cities (3 offers, 4 needs)."
    assert main(["import", "cities", str(path), "--db", database_url]) == 1
    err = capsys.readouterr().err
    assert "line 2: Kraków is already registered." in err and err.strip().endswith("Nothing imported: 4 bad rows.")


HEADER = "name,country,population,cohort,mentor,tracks,offers,needs\n"


def problems_of(services: Services, path: Path) -> list[str]:
    with pytest.raises(ImportFailed) as failure:
        import_cities(services, path)
    return failure.value.problems


def test_a_huge_cell_or_line_is_one_line_problem_and_the_file_is_not_read_further(
    services: Services, tmp_path: Path
) -> None:
    """A cell past the csv module's own limit, a line of millions of characters: one line each, at once."""
    cell = f"{HEADER}Brno,CZ,,,,,,ok\nPorto,PT,,,,,{'x' * 200_000},\nRiga,LV,,,,,,\n"
    assert problems_of(services, write(tmp_path, cell)) == [
        "line 3: longer than 100,000 characters; the rest of the file was not read.",
        "Nothing imported: 1 bad rows.",
    ]
    line = f"{HEADER}Brno,CZ,,,,,,\n" + "," * 5_000_000 + "\n"
    assert problems_of(services, write(tmp_path, line))[0] == (
        "line 3: longer than 100,000 characters; the rest of the file was not read."
    )
    header = "name,country," + "x" * 1_000_000 + "\nBrno,CZ\n"
    assert problems_of(services, write(tmp_path, header))[0].startswith("line 1: longer than 100,000 characters")


def test_a_quoted_cell_over_many_lines_past_the_csv_limit_is_a_line_numbered_problem(
    services: Services, tmp_path: Path
) -> None:
    many_lines = ("y" * 50 + "\n") * 3_000  # each line short, the cell over the csv module's 131,072 characters
    problems = problems_of(services, write(tmp_path, f'{HEADER}Brno,CZ,,,,,"{many_lines}",\n'))
    assert problems[0].startswith("line ") and "not readable as CSV (field larger than field limit" in problems[0]
    assert problems[-1] == "Nothing imported: 1 bad rows."


def test_long_cells_and_control_characters_are_refused_before_the_row_is_parsed(
    services: Services, tmp_path: Path
) -> None:
    rows = [
        HEADER.rstrip("\n"),
        'Brno,CZ,,,,,"' + ";".join(["o" * 400] * 30) + '",',  # line 2: 12,029 characters in one cell
        "Porto\x00,PT,,,,,,",  # line 3
        "Riga,LV,,,,,offer \x1b[31m,",  # line 4
        'Den Haag,"X\nX",,,,,,',  # line 5: a line break in a cell, quoted back on one line
        "Oslo,NO,,,,,,",
    ]
    problems = problems_of(services, write(tmp_path, "\n".join(rows) + "\n"))
    assert problems == [
        "line 2: the offers cell has 12,029 characters; a cell holds at most 10,040.",
        "line 3: the name cell holds U+0000 at character 6, a control character; remove it.",
        "line 4: the offers cell holds U+001B at character 7, a control character; remove it.",
        "line 5: `country=` expects an ISO 3166 two-letter code such as CZ or PT, not `X X`.",
        "Nothing imported: 4 bad rows.",
    ]
    assert "\n" not in "".join(problems)
    say(services, "admin", "/city list")
    assert say(services, "admin", "/city show Oslo") == "No city called `Oslo`. See /city list."


def test_reading_is_linear_in_the_file(services: Services, tmp_path: Path) -> None:
    from tests.core.test_linear_input import FIXED, GROWTH, outside_database

    def bad_rows(count: int) -> Path:
        path = tmp_path / f"bad-{count}.csv"
        path.write_text(HEADER + "".join(f"City {i},XX,many,,maybe,space,,\n" for i in range(count)))
        return path

    def work(path: Path) -> int:
        return outside_database(lambda: pytest.raises(ImportFailed, import_cities, services, path))

    small, large = bad_rows(20), bad_rows(200)
    work(small)  # warm up
    assert work(large) <= GROWTH * work(small) + FIXED


def test_a_bot_already_matching_sees_a_large_import_at_its_next_match(services: Services, tmp_path: Path) -> None:
    import_cities(services, write(tmp_path, GOOD))
    say(services, "admin", "/city list")
    assert "Kraków" in say(services, "admin", "/match top city=Łódź")  # the index is built and kept
    rows = [f"Città {i:03},IT,,,,green-economy,open data platform for citizens," for i in range(150)]
    path = tmp_path / "more.csv"
    path.write_text("name,country,population,cohort,mentor,tracks,offers,needs\n" + "\n".join(rows) + "\n")
    assert import_cities(services, path).summary() == "Imported 150 cities (150 offers, 0 needs)."
    assert "Città" in say(services, "admin", "/match top 20 city=Łódź")
