"""One module per chapter, named as the chapter's file: the experiments the chapter runs.

Each module's ``run(cfg)`` takes the chapter's resolved parameters and returns one frozen result
(a :class:`~middleground.experiments.report.Result`) holding every number, table, interval and
chosen sentence the chapter's prose states, with its claims as data. The computation is split into
small pure functions that unit tests call on fabricated inputs with known answers
(``tests/test_experiment_<chapter>.py``); the chapter itself only calls ``run``, draws the figures of
:mod:`middleground.book.figures` and glues (``tests/test_thin_chapters.py`` keeps it so). The
outcome-dependent sentences shared by several chapters (the central test's decision, what it could
detect) are written once, in :mod:`.ladder`. Two modules serve the others: :mod:`.report` (results and
claims as data) and :mod:`.frozen_plan` (a test's plan, committed before its data, read and hashed);
:mod:`.plan` lists the trainings each chapter starts.
"""
