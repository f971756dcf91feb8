"""middleground: the code behind the executable book.

Layers, lowest first; a layer imports only those before it (a test reads the imports):

- :mod:`.base`: project root, atomic writes, bits, the data layer.
- :mod:`.mechanics`: the GPT by hand in numpy: derivatives, forward, backward, AdamW.
- :mod:`.sources`: processes with exact entropy rate and excess entropy; knobs; tasks.
- :mod:`.measures`: estimators, scaling fits, capability metrics, learning curves.
- :mod:`.gpt`: the torch GPT, the training core, the trainer, ensembles.
- :mod:`.sweeps`: grids of runs cached cell by cell; the standard knob sweep.
- :mod:`.experiments`: one module per chapter.
- :mod:`.book`: profiles, runner, provenance, charts, the Sphinx extension, the browser check.
"""

__version__ = "0.1.0"
