# Malicious test fixture: never run. The payload is split: a base64 variable, a decode, a later exec.
import base64 as b
from torch import nn

_part1 = "cHJpbnQoJ3Rlc3QgZml4dHVyZSwgbm90IGEgcmVhbCBwYXlsb2FkJyk="
_part2 = ""
_blob = _part1 + _part2


class EvilModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self._code = b.b64decode(_blob)
        self.setup()

    def setup(self):
        exec(self._code)
