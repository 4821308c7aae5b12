"""Regression gates: compare a candidate run with a baseline item by item (see docs/gate.md).

- :mod:`evalkit.gate.refs`: resolve a REF (run id, results file, baseline file) into per-item outcomes;
- :mod:`evalkit.gate.baseline_file`: the committed baseline files (``evalkit baseline export``);
- :mod:`evalkit.gate.stats`: McNemar's exact test, Newcombe's paired interval, paired bootstrap and randomization test;
- :mod:`evalkit.gate.compare`: pairing and the per-suite decision; :mod:`evalkit.gate.checks`: errors, speed, RAM;
- :mod:`evalkit.gate.report`: terminal table, Markdown and JSON.
"""
