"""The ``dojobber`` command's parts (cli.py is its front door, with the table of subcommands).

- ``run``, ``graph``, ``listing``, ``report``, ``history``: one module per
  subcommand, with its ``add_arguments(parser)`` and ``main(options)``.
- ``runoptions``, ``historyoptions``: what ``run`` and ``history`` take
  (their ``add_arguments``), in modules light to import for the parser.
- ``target``: finding and importing the job graph named on the command line.
- ``pools``: the executor ``--executor`` asks for.
- ``writing``: files checked before a run and written whole; stderr's lines.
- ``exits``: how the command ends: exit statuses and the errors behind them.
"""
