"""The run history (issue 27): every run recorded in SQLite or PostgreSQL, and read back.

``place`` says where a history is and shows it without a password,
reading a PostgreSQL URL by libpq's rules (``conninfo``);
``store`` holds the schema and talks to the database; ``record`` is the
observer that writes a run; ``views`` reads runs back (the listing, drift,
flaky, slow, fleet and a job's story) and ``page`` draws them as HTML.
Nothing here loads with ``import dojobber``: only a run that records, or
``dojobber history``, imports it.
"""
