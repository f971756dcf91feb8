"""Measuring: estimators, fits and scores that take arrays and sources (knows no trainer).

- :mod:`.entropy`: block entropies, entropy rate and excess entropy from one sample; compressors.
- :mod:`.scaling`: power-law fits L(N) = E + A N^(−α), with bootstrap intervals.
- :mod:`.capability`: the exact target of a continuation, and exact match, token accuracy, edit
  distance.
- :mod:`.curves`: learning curves: plateaus, and how well a run's start predicts its end.
"""
