# Malicious test fixture: never run. Unpickles a file from the repository.
import os
import pickle
import torch

_here = os.path.dirname(__file__)
with open(os.path.join(_here, "extra.pkl"), "rb") as f:
    EXTRA = pickle.load(f)
STATE = torch.load(os.path.join(_here, "extra.pt"))
