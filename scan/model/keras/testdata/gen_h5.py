"""Generates the .h5 test files of the keras package with h5py.

Run with /usr/bin/python3 (Debian python3-h5py 3.7.0). It writes model
configs as attributes the way Keras does; it never defines, loads or runs a
model: the Lambda payload is the fixed base64 string below (marshalled code
of `lambda x: __import__('os').system('id')`, CPython 3.11), stored as data.
"""
import json

import h5py
import numpy as np

PAYLOAD = ("4wEAAAAAAAAAAAAAAAMAAAADAAAA80YAAACXAHQBAAAAAAAAAAAAAGQBpgEAAKsBAAAAAAAAAACgAQAAAAAAAAAAAAAAAAAAAAAAAAAAZAKm"
           "AQAAqwEAAAAAAAAAAFMAKQNO2gJvc9oCaWQpAtoKX19pbXBvcnRfX9oGc3lzdGVtqQHaAXhzAQAAACD6CDxzdHJpbmc++gg8bGFtYmRhPnIJ"
           "AAAAAwAAAHMcAAAAgACNWpgE0Q0d1A0d1w0k0g0koFTRDSrUDSqAAPMAAAAA")


def dense(name):
    return {"class_name": "Dense", "config": {"name": name, "units": 2, "activation": "relu"}}


def lam():
    return {"class_name": "Lambda", "config": {"name": "l", "function": [PAYLOAD, None, None],
                                               "function_type": "lambda", "module": "__main__"}}


def seq(*layers):
    return {"class_name": "Sequential", "config": {"name": "seq", "layers": list(layers)}}


def write(path, cfg, libver="earliest", as_bytes=True, extra_attrs=0):
    with h5py.File(path, "w", libver=libver) as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        for i in range(extra_attrs):
            f.attrs["extra_%02d" % i] = "x" * 10
        s = json.dumps(cfg)
        f.attrs["model_config"] = s.encode("utf8") if as_bytes else s
        f.attrs["training_config"] = json.dumps({"loss": "mse", "optimizer_config": {"class_name": "Adam"}}).encode("utf8")
        g = f.create_group("model_weights")
        g.create_dataset("kernel", data=np.zeros((2, 2), dtype="f4"))


write("benign.h5", seq(dense("a"), dense("b")))
write("lambda.h5", seq(dense("a"), lam()))
write("lambda_vlen_latest.h5", seq(dense("a"), {"class_name": "TimeDistributed", "config": {"layer": lam()}}),
      libver="latest", as_bytes=False)
write("lambda_dense_attrs.h5", seq(dense("a"), lam()), libver="latest", as_bytes=False, extra_attrs=12)
write("benign_vlen_latest.h5", seq(dense("a")), libver="latest", as_bytes=False)
