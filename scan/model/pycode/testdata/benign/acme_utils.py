"""Helpers for the Acme remote code: kernels, dtype handling and generation."""
import functools
import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
from torch import nn

from transformers.utils import is_torch_sdpa_available

_ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU, "silu": nn.SiLU}
_LAYER_RE = re.compile(r"model\.layers\.(\d+)\.")

try:
    rotary = importlib.import_module("flash_attn.layers.rotary")
except ImportError:
    rotary = None


@dataclass
class KernelOptions:
    use_triton: bool = False
    compile: bool = False
    dtype: Optional[str] = None


def get_activation(name: str) -> nn.Module:
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(_ACTIVATIONS)}")


def resolve_dtype(name: Optional[str]) -> torch.dtype:
    if name is None:
        return torch.get_default_dtype()
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"not a torch dtype: {name}")
    return dtype


def maybe_compile(module: nn.Module, opts: KernelOptions) -> nn.Module:
    if opts.compile and hasattr(torch, "compile"):
        return torch.compile(module, mode="reduce-overhead")
    return module


def layer_index(param_name: str) -> Optional[int]:
    m = _LAYER_RE.search(param_name)
    return int(m.group(1)) if m else None


def accepts_kwarg(fn: Callable[..., Any], name: str) -> bool:
    return name in inspect.signature(fn).parameters


def cached(fn):
    return functools.lru_cache(maxsize=None)(fn)


def attention_backend() -> str:
    if rotary is not None:
        return "flash"
    if is_torch_sdpa_available():
        return "sdpa"
    return "eager"


def load_state(path: str, device: str = "cpu"):
    return torch.load(path, map_location=device, weights_only=True)


def set_eval(model: nn.Module) -> nn.Module:
    model.eval()
    for name in ("dropout", "attn_dropout"):
        if hasattr(model, name):
            setattr(model, name, 0.0)
    return model
