"""Bring existing models in as specs (optional extra ``onnx``).

:mod:`.onnx` reads an ONNX file with the ``onnx`` package (its shape inference and reference
operators; no onnxruntime) and recognises the layers sepcalc knows; :mod:`.spec_text` writes
them as a readable spec and checks it. Imported lazily, only by the ``import`` command: the core
and every other command never import ``onnx``.
"""

INSTALL_HINT = "pip install 'sepcalc[onnx]'"
"""How to get the optional extra the ONNX importer needs."""
