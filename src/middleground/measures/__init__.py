"""Measuring: estimators, fits and scores that take arrays and sources (knows no trainer).

- :mod:`.entropy`: block entropies, entropy rate and excess entropy from one sample; compressors.
- :mod:`.scaling`: power-law fits L(N) = E + A N^(−α), with bootstrap intervals.
- :mod:`.capability`: the exact target of a continuation, and exact match, token accuracy, edit
  distance.
- :mod:`.curves`: learning curves: when a run has made most of its drop.
- :mod:`.regions`: the book's one definition of the middle, a region of the (h, E) plane.
- :mod:`.ngram`: a count-based Bayes predictor (a mixture of Markov orders), the baseline of Part III.
- :mod:`.extrapolation`: the central test's control and primary statistics: prediction intervals
  of a held-out rung, their coverage, skill over persistence, transition sizes, the (h, E) plane's
  error model, Holm's correction.
- :mod:`.predictability`: the central test: small models predicting a large one, a run's start its
  end, and the middle-minus-ends statistic with its permutation test and bootstrap.
- :mod:`.correlations`: mutual information against distance (exact and estimated), power-law and
  exponential fits with intervals, conditional-entropy decay, Hilberg exponents.
- :mod:`.spatial`: block entropies of spatial rows (cellular automata) with jackknife errors; the
  automata's complexity-entropy map.
- :mod:`.probes`: linear probes from representations to exact beliefs, beside lookup-table,
  untrained and shuffled baselines.
"""
