"""Generates the ONNX test files of the onnx package with the onnx library.

Run with /usr/bin/python3 (Debian python3-onnx 1.12.0). It only builds and
serializes protobufs; no runtime loads them.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def mlp(extra_nodes=(), opsets=()):
    w = numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), "W")
    b = numpy_helper.from_array(np.zeros((4,), dtype=np.float32), "B")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"]),
             helper.make_node("Add", ["h", "B"], ["a"]),
             helper.make_node("Relu", ["a"], ["y"])] + list(extra_nodes)
    g = helper.make_graph(nodes, "mlp",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w, b])
    imports = [helper.make_opsetid("", 13)] + [helper.make_opsetid(d, 1) for d in opsets]
    return helper.make_model(g, opset_imports=imports, producer_name="rampart-testdata")


os.makedirs("external", exist_ok=True)
m = mlp()
onnx.save_model(m, "mlp.onnx")
onnx.save_model(m, "external/model.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                location="weights.bin", size_threshold=0)

# The same model whose first tensor's location climbs out of the folder.
m = onnx.load("external/model.onnx", load_external_data=False)
for e in m.graph.initializer[0].external_data:
    if e.key == "location":
        e.value = "../../../../etc/passwd"
with open("external/escape.onnx", "wb") as f:
    f.write(m.SerializeToString())

# A custom-domain operator inside an If branch.
then_g = helper.make_graph([helper.make_node("Exfiltrate", ["y"], ["z"], domain="evil.ops")], "then", [],
                           [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4])])
else_g = helper.make_graph([helper.make_node("Identity", ["y"], ["z2"])], "else", [],
                           [helper.make_tensor_value_info("z2", TensorProto.FLOAT, [1, 4])])
cond = helper.make_node("Constant", [], ["c"], value=helper.make_tensor("cv", TensorProto.BOOL, [], [True]))
iff = helper.make_node("If", ["c"], ["out"], then_branch=then_g, else_branch=else_g)
onnx.save_model(mlp([cond, iff], opsets=["evil.ops"]), "custom_in_if.onnx")
