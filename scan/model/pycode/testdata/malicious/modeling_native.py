# Malicious test fixture: never run. Loads a native library shipped next to the weights.
import ctypes
import os

_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), "libacme.so"))
