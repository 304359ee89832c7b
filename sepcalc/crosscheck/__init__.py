"""Cross-check sepcalc against real PyTorch modules counted by fvcore and torch (extra ``torch``).

Imported lazily, only by the ``crosscheck`` and ``export`` commands: :mod:`.build` (spec graph to
``torch.nn.Module``), :mod:`.count` (fvcore and ``FlopCounterMode``), :mod:`.export` (the module
as a standalone source file) import torch; :mod:`.compare` is pure and imports nothing of it.
"""

INSTALL_HINT = "pip install 'sepcalc[torch]'"
"""How to get the optional extra (torch and fvcore) these modules need."""
