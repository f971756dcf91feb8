"""Elementary cellular automata: the 88 inequivalent rules, Wolfram's four classes, fast evolution
on a ring, and the exact spatial process a rule makes in a few steps.

**Rules.** Wolfram's numbering (Wolfram 1983, "Statistical mechanics of cellular automata", Rev.
Mod. Phys. 55, 601): bit ``4l + 2c + r`` of the rule number (bit 0 the least significant) is the
new value of a cell whose left neighbour, itself and right neighbour are ``l, c, r``.

**Symmetries.** Two rules behave the same up to relabelling when one is the other seen in a mirror
(reflection l ↔ r) or with 0 and 1 swapped (conjugation), or both (Wolfram 1983; the 88 "minimal
representative" rules of Wolfram 1986, "Tables of cellular automaton properties", table 1):

- reflection:   bit ``4r + 2c + l`` of the new rule = bit ``4l + 2c + r`` of the old;
- conjugation:  bit ``i`` of the new rule = 1 − bit ``7 − i`` of the old.

:func:`equivalence_class` gives a rule's orbit under the group these generate (1, 2 or 4 rules),
:func:`inequivalent_rules` the smallest member of each orbit: 88 of them.

**Wolfram's classes** (I uniform, II periodic, III chaotic, IV complex) of the 88 representatives,
:data:`WOLFRAM_CLASS`, as summarised by Martínez 2013 ("A note on elementary cellular automata
classification", J. Cellular Automata), after Wolfram 1984/2002: 8 rules in class I, 65 in II, 11
in III, 4 in IV. (The list was transcribed from public code that reproduces Martínez's table; the
paper's own table could not be opened here.) The classes are phenomenological (read off space-time pictures),
and some assignments are disputed in the literature; Culik and Yu 1988 proved membership
undecidable in general. Classes are invariant under the symmetries, so every rule gets the class of
its representative.

**Evolution.** :func:`evolve` and :func:`spatial_configurations` run many rows at once on a ring,
64 cells to a machine word: a step is a handful of bitwise operations over ``width / 64`` words per
row (the rule as a sum of products of l, c, r), so 88 rules × 16 rows × 4096 cells × 256 steps
take about half a second on one core.

**Exact finite-time spatial process.** After ``t`` steps from independent fair cells, cell ``i``
is a fixed function of the initial cells ``i − t .. i + t`` (a sliding block code of a fair coin).
Read left to right, the row is therefore a hidden-Markov source whose hidden state is the last
``2t`` initial cells read: :func:`spatial_hmm` builds it (``4**t`` states), and its mixed states give
the exact block entropies H(L) of the configuration after ``t`` steps on the infinite lattice.
That is the exact reference against which the sample estimators of
:mod:`middleground.measures.spatial` are tested. On a ring of ``width`` cells the L-block
statistics are the infinite lattice's exactly while ``L + 2t <= width`` (the block then depends on
``L + 2t`` distinct initial cells), and the joint law of every *pair* of blocks is the infinite
lattice's (at their distance around the ring) while ``L + 2t <= width / 2`` (their initial cells
then never overlap around the back of the ring). The second condition matters for estimates made
from all blocks of a row: rule 90 after 2^k steps on a ring of 4·2^k cells has each row repeat with
period 2·2^k, every word counted twice, although each block alone is uniform.

One consequence, exact: a *surjective* rule is balanced (every block of L cells has the same
number, 4, of preimage blocks of L + 2 cells; Hedlund 1969, "Endomorphisms and automorphisms of the
shift dynamical system", Math. Systems Theory 3, 320), so it maps the uniform Bernoulli measure to
itself (Fλ = λ, as used by Hellouin de Menibus, Törmä and Salo 2025, arXiv:2504.06058). Rules 15,
30, 45, 51, 60, 90, 105, 106, 150, 154, 170 and 204 (and their equivalents) are the surjective
ones: they leave the row independent fair bits at every time, h = 1 and E = 0 — chaotic rule 30 and
"complex" rule 106 included. (The tests check both claims on the exact process.)

What this module does not do: estimate h or E from samples (that is
:mod:`middleground.measures.spatial`), or say anything about the t → ∞ limit, which has no closed
form for most rules.
"""

from __future__ import annotations

import numpy as np

from ..base import checks
from .hmm import HMM

N_RULES = 256
WORD = 64  # cells per machine word in the packed evolution

CLASS_NAMES = {1: "I (uniform)", 2: "II (periodic)", 3: "III (chaotic)", 4: "IV (complex)"}

# Wolfram's class of each of the 88 minimal representatives, after Martínez 2013.
_CLASS_MEMBERS = {
    1: (0, 8, 32, 40, 128, 136, 160, 168),
    2: (1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 19, 23, 24, 25, 26, 27, 28, 29, 33, 34, 35,
        36, 37, 38, 42, 43, 44, 46, 50, 51, 56, 57, 58, 62, 72, 73, 74, 76, 77, 78, 94, 104, 108,
        130, 132, 134, 138, 140, 142, 152, 154, 156, 162, 164, 170, 172, 178, 184, 200, 204, 232),
    3: (18, 22, 30, 45, 60, 90, 105, 122, 126, 146, 150),
    4: (41, 54, 106, 110),
}
WOLFRAM_CLASS: dict[int, int] = {r: c for c, rules in _CLASS_MEMBERS.items() for r in rules}


def check_rule(rule) -> int:
    if isinstance(rule, bool) or not isinstance(rule, (int, np.integer)) or not 0 <= rule < N_RULES:
        raise ValueError(f"rule must be an integer in [0, 255]; got {rule!r}")
    return int(rule)


def reflect(rule: int) -> int:
    """The mirror image of ``rule`` (left and right neighbours swapped)."""
    rule = check_rule(rule)
    out = 0
    for l in (0, 1):
        for c in (0, 1):
            for r in (0, 1):
                if rule >> (4 * l + 2 * c + r) & 1:
                    out |= 1 << (4 * r + 2 * c + l)
    return out


def conjugate(rule: int) -> int:
    """``rule`` with the roles of 0 and 1 swapped: new(l, c, r) = 1 − old(1−l, 1−c, 1−r)."""
    rule = check_rule(rule)
    return sum((1 - (rule >> (7 - i) & 1)) << i for i in range(8))


def equivalence_class(rule: int) -> tuple[int, ...]:
    """The rules equivalent to ``rule`` under reflection, conjugation and both, sorted."""
    rule = check_rule(rule)
    return tuple(sorted({rule, reflect(rule), conjugate(rule), reflect(conjugate(rule))}))


def representative(rule: int) -> int:
    """The smallest rule of ``rule``'s equivalence class (Wolfram's minimal representative)."""
    return equivalence_class(rule)[0]


def inequivalent_rules() -> list[int]:
    """The 88 minimal representatives, ascending."""
    return sorted({representative(r) for r in range(N_RULES)})


def wolfram_class(rule: int) -> int:
    """Wolfram's class (1 uniform, 2 periodic, 3 chaotic, 4 complex) of ``rule``'s representative,
    after Martínez 2013."""
    return WOLFRAM_CLASS[representative(rule)]


# --- evolution ------------------------------------------------------------------------------------

def _rule_terms(rule: int):
    """The rule as a sum of products: for each (l, c) the dependence on r, one of
    "0", "r", "not r", "1" (so a step costs at most four products)."""
    terms = []
    for l in (0, 1):
        for c in (0, 1):
            on0, on1 = rule >> (4 * l + 2 * c) & 1, rule >> (4 * l + 2 * c + 1) & 1
            g = {(0, 0): None, (0, 1): "r", (1, 0): "not r", (1, 1): "1"}[(on0, on1)]
            if g is not None:
                terms.append((l, c, g))
    return terms


_ONE = np.uint64(1)
_TOP = np.uint64(WORD - 1)


def _step_packed(words: np.ndarray, terms) -> np.ndarray:
    """One step of packed rows ``words`` (n, width/64), bit j of word k being cell 64k + j."""
    if not terms:
        return np.zeros_like(words)
    # Left neighbour of cell i is cell i − 1: shift up by one, carrying bit 63 of the word before.
    left = (words << _ONE) | (np.roll(words, 1, axis=1) >> _TOP)
    right = (words >> _ONE) | (np.roll(words, -1, axis=1) << _TOP)
    lits = {("l", 1): left, ("l", 0): ~left, ("c", 1): words, ("c", 0): ~words}
    out = None
    for l, c, g in terms:
        term = lits[("l", l)] & lits[("c", c)]
        if g == "r":
            term &= right
        elif g == "not r":
            term &= ~right
        out = term if out is None else out | term
    return out


def _check_rows(rows) -> np.ndarray:
    rows = np.asarray(rows)
    if rows.ndim != 2 or rows.shape[0] < 1:
        raise ValueError(f"rows must be a 2-d array (n_rows, width); got shape {rows.shape}")
    if rows.shape[1] < WORD or rows.shape[1] % WORD:
        raise ValueError(f"width must be a positive multiple of {WORD}; got {rows.shape[1]}")
    if not np.issubdtype(rows.dtype, np.integer) and rows.dtype != bool:
        raise ValueError(f"rows must hold 0/1 integers; got dtype {rows.dtype}")
    if rows.size and (rows.min() < 0 or rows.max() > 1):
        raise ValueError("rows must hold only 0 and 1")
    return rows.astype(np.uint8, copy=False)


def evolve(rule: int, rows, steps: int) -> np.ndarray:
    """The rows (n_rows, width) after ``steps`` steps of ``rule`` on a ring, each row on its own
    (periodic boundaries), as uint8 0/1. ``width`` must be a multiple of 64."""
    rule = check_rule(rule)
    rows = _check_rows(rows)
    steps = checks.integer("steps", steps, 0)
    # Little-endian bytes, little-endian bits: cell 64k + j is bit j of word k on any machine.
    words = np.packbits(rows, axis=1, bitorder="little").view("<u8").astype(np.uint64)
    terms = _rule_terms(rule)
    for _ in range(steps):
        words = _step_packed(words, terms)
    return np.unpackbits(words.astype("<u8").view(np.uint8), axis=1, bitorder="little")


def spatial_configurations(rule: int, width: int, steps: int, n_samples: int,
                           rng: np.random.Generator) -> np.ndarray:
    """``n_samples`` rows of ``width`` cells after ``steps`` steps of ``rule`` on a ring, each from
    its own row of independent fair bits: uint8 array (n_samples, width)."""
    width = checks.integer("width", width, WORD)
    n_samples = checks.integer("n_samples", n_samples, 1)
    if width % WORD:
        raise ValueError(f"width must be a positive multiple of {WORD}; got {width}")
    checks.rng("rng", rng)
    start = rng.integers(0, 2, size=(n_samples, width), dtype=np.uint8)
    return evolve(rule, start, steps)


# --- the exact spatial process after a few steps ------------------------------------------------

MAX_EXACT_STEPS = 5  # 4**5 = 1024 hidden states; beyond that the mixed states get slow


def local_map(rule: int, steps: int) -> np.ndarray:
    """The value of a cell after ``steps`` steps as a function of the 2·steps + 1 initial cells
    around it: an array of length 2**(2·steps + 1) indexed by the window read as a binary number,
    leftmost cell most significant."""
    rule = check_rule(rule)
    steps = checks.integer("steps", steps, 0)
    n = 2 * steps + 1
    windows = (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)) & 1  # (2^n, n), left first
    table = np.array([rule >> i & 1 for i in range(8)], dtype=np.int64)
    for _ in range(steps):  # each step shortens the window by one cell at each end
        windows = table[4 * windows[:, :-2] + 2 * windows[:, 1:-1] + windows[:, 2:]]
    return windows[:, 0]


def spatial_hmm(rule: int, steps: int) -> HMM:
    """The row after ``steps`` steps of ``rule`` from independent fair cells, read left to right,
    as an exact hidden-Markov source (``4**steps`` hidden states: the last 2·steps initial cells).

    Reading initial cell x_{j+1} completes the window x_{j−2t+1} .. x_{j+1} around cell j + 1 − t,
    whose value is emitted; the state moves to the window's last 2t cells. Each cell is read with
    probability 1/2, and the start is uniform (the stationary distribution)."""
    steps = checks.integer("steps", steps, 0)
    if steps > MAX_EXACT_STEPS:
        raise ValueError(f"steps must be at most {MAX_EXACT_STEPS} for the exact source "
                         f"({4**steps} hidden states otherwise); got {steps}")
    f = local_map(rule, steps)
    S = 4**steps
    T = np.zeros((2, S, S))
    for window, y in enumerate(f):
        T[y, window >> 1, window & (S - 1)] += 0.5
    return HMM(T, name=f"ECA rule {rule} after {steps} steps", start=np.full(S, 1.0 / S))
