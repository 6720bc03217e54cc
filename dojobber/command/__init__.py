"""The ``dojobber`` command's parts (cli.py is its front door).

- ``run``, ``graph``, ``listing``, ``report``: one module per subcommand.
- ``target``: finding and importing the job graph named on the command line.
- ``pools``: the executor ``--executor`` asks for.
- ``writing``: files checked before a run and written whole; stderr's lines.
- ``exits``: how the command ends: exit statuses and the errors behind them.
"""
