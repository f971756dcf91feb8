"""Sources with exactly known information content, and the knobs that move them (knows no model).

- :mod:`.processes`: the :class:`~.processes.Source` interface and its :class:`~.processes.Truth`;
  iid, periodic, Santa Fe and cellular-automaton sources.
- :mod:`.beliefs`: mixed states, an observer's belief about a hidden state.
- :mod:`.hmm`: finite hidden-Markov sources with exact block entropies (Markov chains with a
  temperature, the golden-mean and even processes, noisy periodic words).
- :mod:`.floor`: the finite-context floor, the best average loss a model with context T can reach.
- :mod:`.noisy`: any source seen through memoryless noise.
- :mod:`.knobs`: the families of sources the book moves along, from structure to noise.
- :mod:`.plane`: sources that cross h and E (biased i.i.d., noisy periods, Markov orders at a
  matched h), for the central test's plane.
- :mod:`.tasks`: tasks with exact answers (in-context Markov chains, quanta, addition).
- :mod:`.degrade`: degradations of real text (character noise, shuffles, n-gram surrogates).
- :mod:`.cmech`: computational mechanics of unifilar sources: causal states, statistical
  complexity C_μ, crypticity, Markov order, synchronisation and transient information, and the
  distribution of mixed states of any finite source.
- :mod:`.automata`: the 88 inequivalent elementary cellular automata, their Wolfram classes and
  their spatial rows (exact as hidden-Markov sources for a few steps).
- :mod:`.rhm`: the Random Hierarchy Model, a grammar with power-law statistics, exact where
  enumeration allows.
"""
