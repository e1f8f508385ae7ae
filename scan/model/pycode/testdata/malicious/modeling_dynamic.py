# Malicious test fixture: never run. Dynamic code without an encoded payload.
import builtins
import importlib


def build(cfg):
    fn = getattr(builtins, "ev" + "al")
    mod = importlib.import_module(cfg["backend"])
    return eval(cfg["init_expr"]), fn, mod
