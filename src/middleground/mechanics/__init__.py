"""The mechanism by hand, in numpy only: every derivative of a GPT, the whole GPT, and AdamW.

- :mod:`.config`: the GPT's hyperparameters (shared with the torch model).
- :mod:`.calculus`: each component's forward and backward, side by side.
- :mod:`.numpy_gpt`: the whole GPT, forward, backward and AdamW, from those components.

This layer knows numpy (and scipy's erf), nothing of torch: the tests compare it with autograd.
"""
