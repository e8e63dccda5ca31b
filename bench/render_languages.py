"""What reading CityPeers in a language costs: the City Lab morning's commands answered in English, Polish and
the pseudo-language, and a reminder rendered for one reader of each.

A programme of --cities cities (one rep each, in one SQLite file) answers the morning's commands through the real
dispatcher — `/city show`, `/city list`, `/event list`, `/goal list`, `/match`, an unknown command — as reps who
chose English, Polish (`pl`, a full catalogue: CLDR's three plural forms, its dates) or `xx`; each is timed by CPU
(process time) over --rounds rounds, after a warm-up that loads the catalogues (read once per process). Then the
part a language adds alone: `Reply.localize` of a ten-section reply, and a ledger reminder's render, per language.

Printed: per command and language, the median CPU milliseconds and the cost against English in percent.

    python bench/render_languages.py [--cities 200] [--rounds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import locales  # noqa: E402
from bot.app import build_services  # noqa: E402
from bot.config import load_settings  # noqa: E402
from core.clock import FakeClock  # noqa: E402
from core.i18n import N_, nN_  # noqa: E402
from handlers.dispatch import handle  # noqa: E402
from handlers.types import Reply, Request  # noqa: E402

LANGUAGES = ("en", "pl", "xx")
COMMANDS = ("/city show", "/city list", "/event list", "/goal list", "/match", "/city nonsense")


def say(services, user: str, line: str) -> Reply:
    command, _, text = line.lstrip("/").partition(" ")
    return handle(services, Request(user, user, command, text))


def cpu_ms(run, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.process_time()
        run()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(_env_file=None, database_url=f"sqlite:///{folder}/bench.db")
        services = build_services(
            settings, clock=FakeClock(datetime(2026, 11, 22, 9, tzinfo=UTC)), first_user_is_admin=True
        )
        say(services, "admin", "/city tracks")
        for n in range(args.cities):
            say(services, "admin", f"/city register City{n} country=PL cohort=Wave")
        for language in LANGUAGES:
            rep = f"rep-{language}"
            say(services, rep, f"/city language {language}")
            say(services, rep, "/city join City" + str(LANGUAGES.index(language)))
            say(services, "admin", f"/city approve @{rep} City{LANGUAGES.index(language)}")
            say(services, rep, "/city offer Open data hub")
            say(services, rep, "/goal add Publish the open data strategy")
        say(services, "admin", '/event add City Lab start="2027-03-01 10:00" where=Porto')
        for language in LANGUAGES:  # warm-up: catalogues read, indexes built
            for line in COMMANDS:
                say(services, f"rep-{language}", line)
        print(f"{args.cities} cities, {args.rounds} rounds, median CPU ms per command (cost against English)")
        print(f"{'command':<16}" + "".join(f"{language:>16}" for language in LANGUAGES))
        for line in COMMANDS:  # the languages interleaved round by round, so a busy machine weighs on each alike
            times: dict[str, list[float]] = {language: [] for language in LANGUAGES}
            for _ in range(args.rounds):
                for language in LANGUAGES:
                    started = time.process_time()
                    say(services, f"rep-{language}", line)
                    times[language].append((time.process_time() - started) * 1000)
            english = statistics.median(times["en"])
            cells = []
            for language in LANGUAGES:
                ms = statistics.median(times[language])
                cells.append(f"{ms:8.2f} ({(ms / english - 1) * 100:+4.0f}%)")
            print(f"{line:<16}" + "".join(f"{cell:>16}" for cell in cells))
        services.engine.dispose()
    reply = Reply()
    plural = nN_("{n} city", "{n} cities")
    for n in range(10):
        reply.add(N_("Added to what *{name}* offers: {text}"), name=f"City{n}", text="Open data hub")
        reply.add(plural, n=n)
    print("Reply.localize of 20 sections, median µs over 2,000:")
    for language in LANGUAGES:
        chosen = locales.language(language)
        us = cpu_ms(lambda chosen=chosen: [reply.localize(chosen) for _ in range(100)], 20) * 10
        print(f"  {language}: {us:7.1f} µs")


if __name__ == "__main__":
    main()
