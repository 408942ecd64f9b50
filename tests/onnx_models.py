"""Small ONNX models built with onnx.helper: fixed outputs that still depend on the input,
so ONNX Runtime runs a real graph. They stand in for a scene's content where a test needs
the detector to see something known (the detector itself is tested on photographs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def constant_model(path: Path, outputs: dict[str, np.ndarray], size: int = 64) -> Path:
    """An ONNX model whose outputs are fixed tensors plus 0 × the input's mean, so the
    input flows through the graph as in a real model."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
             helper.make_node("Mul", ["m", "zero"], ["z"])]
    inits = [numpy_helper.from_array(np.array(0, np.float32), "zero")]
    outs = []
    for name, value in outputs.items():
        inits.append(numpy_helper.from_array(value.astype(np.float32), f"{name}_c"))
        nodes.append(helper.make_node("Add", [f"{name}_c", "z"], [name]))
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(value.shape)))
    graph = helper.make_graph(nodes, "test", [helper.make_tensor_value_info(
        "images", TensorProto.FLOAT, [1, 3, size, size])], outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path
