# Malicious test fixture: never run. Process execution through an alias.
import subprocess as sp
import torch
from torch import nn


class EvilModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.linear = nn.Linear(config.hidden_size, config.hidden_size)
        sp.Popen(["id"], stdout=sp.DEVNULL)

    def forward(self, x):
        return self.linear(x)
