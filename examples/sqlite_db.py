#!/usr/bin/env python3
"""Build a small library catalogue in SQLite: migrations, seed rows, an index.

What it teaches:

* schema migrations as a chain of jobs, each applied exactly once: its Check
  reads the schema version (``PRAGMA user_version``), its Run applies the
  migration and bumps the version in one transaction;
* local ``storage`` shared by a job's Check and Run (one connection per try),
  and ``Cleanup`` to close it after the run;
* seed data written with ``INSERT OR IGNORE``, so that Run is safe to repeat;
* a final job that only verifies (its Run has nothing to fix): real queries
  whose answers must be right, including one that must use the index.

Run it twice: the second run changes nothing and every job passes at its
first Check::

    python examples/sqlite_db.py /tmp/library -v
    python examples/sqlite_db.py /tmp/library -v
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import Any, Sequence

from dojobber import DoJobber, Job

DATABASE = "library.sqlite3"

AUTHORS = [
    (1, "Jane Austen"),
    (2, "Mary Shelley"),
    (3, "Herman Melville"),
]

BOOKS = [
    ("978-0141439518", "Pride and Prejudice", 1, 1813),
    ("978-0141439471", "Frankenstein", 2, 1818),
    ("978-0142437247", "Moby-Dick", 3, 1851),
    ("978-0141439587", "Emma", 1, 1815),
]


class DatabaseJob(Job):
    """A job that works on the database: one connection per try.

    The connection lives in ``self.storage`` so that Check and Run share it;
    Cleanup closes it once the whole graph has run.
    """

    @property
    def db(self) -> sqlite3.Connection:
        if "db" not in self.storage:
            path = self.global_storage["target"] / DATABASE
            # mode=rw: never create the file by accident (a no_act run must
            # change nothing). isolation_level=None: transactions are the
            # SQL's own BEGIN/COMMIT.
            self.storage["db"] = sqlite3.connect(
                path.as_uri() + "?mode=rw", uri=True, isolation_level=None
            )
        db: sqlite3.Connection = self.storage["db"]
        return db

    def Cleanup(self) -> None:
        db = self.storage.get("db")
        if db is not None:
            db.close()


class DatabaseFile(Job):
    """The database file exists (an empty SQLite database at first)."""

    def Check(self, *args: Any, **kwargs: Any) -> None:
        path = Path(kwargs["target"]).resolve() / DATABASE
        self.global_storage["target"] = path.parent
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        target = self.global_storage["target"]
        target.mkdir(parents=True, exist_ok=True)
        sqlite3.connect(target / DATABASE).close()


class Migration(DatabaseJob):
    """Brings the schema to ``VERSION`` by running ``SQL`` once.

    A base class, not in the graph: each subclass is one migration and lists
    the previous one in its DEPS, so they apply in order.
    """

    VERSION = 0
    SQL = ""

    def Check(self, *args: Any, **kwargs: Any) -> int:
        version: int = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version < self.VERSION:
            raise RuntimeError(f"schema is at version {version}, want {self.VERSION}")
        return version

    def Run(self, *args: Any, **kwargs: Any) -> None:
        # All or nothing: the migration and the version bump commit together.
        self.db.executescript(
            f"BEGIN; {self.SQL}; PRAGMA user_version = {self.VERSION}; COMMIT;"
        )


class CreateTables(Migration):
    DEPS = (DatabaseFile,)
    VERSION = 1
    SQL = """
        CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE books (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            author_id INTEGER NOT NULL REFERENCES authors(id)
        )
    """


class AddIsbnAndYear(Migration):
    DEPS = (CreateTables,)
    VERSION = 2
    SQL = """
        ALTER TABLE books ADD COLUMN isbn TEXT;
        ALTER TABLE books ADD COLUMN year INTEGER;
        CREATE UNIQUE INDEX books_isbn ON books(isbn)
    """


class AddLoans(Migration):
    DEPS = (AddIsbnAndYear,)
    VERSION = 3
    SQL = """
        CREATE TABLE loans (
            book_id INTEGER NOT NULL REFERENCES books(id),
            borrower TEXT NOT NULL,
            due TEXT NOT NULL
        )
    """


class SeedAuthors(DatabaseJob):
    """The authors every catalogue starts with."""

    DEPS = (AddLoans,)

    def Check(self, *args: Any, **kwargs: Any) -> int:
        found = self.db.execute("SELECT id, name FROM authors ORDER BY id").fetchall()
        missing = set(AUTHORS) - set(found)
        if missing:
            raise LookupError(f"{len(missing)} seed authors missing")
        return len(found)

    def Run(self, *args: Any, **kwargs: Any) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR IGNORE INTO authors VALUES (?, ?)", AUTHORS)


class SeedBooks(DatabaseJob):
    """The books every catalogue starts with (the ISBN is unique)."""

    DEPS = (SeedAuthors,)

    def Check(self, *args: Any, **kwargs: Any) -> int:
        found = self.db.execute("SELECT isbn, title, author_id, year FROM books").fetchall()
        missing = set(BOOKS) - set(found)
        if missing:
            raise LookupError(f"{len(missing)} seed books missing")
        return len(found)

    def Run(self, *args: Any, **kwargs: Any) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR IGNORE INTO books (isbn, title, author_id, year) "
                "VALUES (?, ?, ?, ?)",
                BOOKS,
            )


class AuthorIndex(DatabaseJob):
    """An index for looking up an author's books."""

    DEPS = (AddLoans,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        row = self.db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'books_author'"
        ).fetchone()
        if row is None:
            raise LookupError("index books_author does not exist")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        self.db.execute("CREATE INDEX IF NOT EXISTS books_author ON books(author_id, year)")


class CatalogueWorks(DatabaseJob):
    """The queries the application relies on give the right answers.

    Nothing to Run: if the data or the index are wrong, the jobs it depends
    on are where that gets fixed. Its result is the per-author book count.
    """

    DEPS = (SeedBooks, AuthorIndex)

    def Check(self, *args: Any, **kwargs: Any) -> dict[str, int]:
        db = self.db
        austen = [title for (title,) in db.execute(
            "SELECT title FROM books JOIN authors ON authors.id = books.author_id "
            "WHERE authors.name = ? ORDER BY year", ("Jane Austen",))]
        # Users may add books; the seeded ones must come back, by year.
        seeded = [title for title in austen if title in ("Pride and Prejudice", "Emma")]
        if seeded != ["Pride and Prejudice", "Emma"]:
            raise AssertionError(f"Jane Austen's books by year are {austen}")
        plan = " ".join(row[3] for row in db.execute(
            "EXPLAIN QUERY PLAN SELECT title FROM books WHERE author_id = 1 ORDER BY year"))
        if "books_author" not in plan:
            raise AssertionError(f"the author lookup does not use its index: {plan}")
        counts = dict(db.execute(
            "SELECT authors.name, count(books.id) FROM authors "
            "LEFT JOIN books ON books.author_id = authors.id GROUP BY authors.name"))
        return counts

    def Run(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to do: a wrong answer means a dependency is wrong."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="sqlite-demo",
                        help=f"directory of {DATABASE} (default: ./sqlite-demo)")
    parser.add_argument("-n", "--no-act", action="store_true", help="only check")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("-d", "--debug", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    dojob = DoJobber()
    dojob.configure(CatalogueWorks, no_act=args.no_act, verbose=args.verbose,
                    debug=args.debug)
    dojob.set_args(target=args.target)
    dojob.checknrun()
    if dojob.success():
        counts = dojob.noderesults["CatalogueWorks"]
        books = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items()))
        print(f"{Path(args.target) / DATABASE}: schema version "
              f"{dojob.noderesults['AddLoans']}; books by author: {books}")
        return 0
    for name, error in dojob.nodeexceptions.items():
        print(f"{name}: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
