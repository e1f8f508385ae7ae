# Malicious test fixture: never run. Compressed, marshalled code object built into a function.
import marshal
import types
import zlib

_c = marshal.loads(zlib.decompress(bytes.fromhex("789c4b2c4e492c4e4c060009e60306")))
run = types.FunctionType(_c, globals())
