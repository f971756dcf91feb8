"""Sweeps: grids of training runs, cached cell by cell.

- :mod:`.cache`: the engine: cells, their cache keys, grouping, atomic results.
- :mod:`.knob`: the standard sweep across every knob family, shared by several chapters.

Sweeps that only one chapter shows (in-context Markov chains, quanta, degraded text) define their
cells and group trainers in that chapter's module under :mod:`middleground.experiments`.
"""
