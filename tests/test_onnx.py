"""ONNX: every zoo network small enough exports with a dynamic batch dimension, and onnxruntime's
outputs equal PyTorch's within 1e-5 at batch 1 and 3. GoogLeNet with its auxiliary heads (an
adaptive pool from 14x14 to 4x4, which no ONNX operator does, lowered to averaging matrices from
the known shapes) and Inception-v3 with its auxiliary head are included. The default run covers a
representative set; `pytest -m slow` the whole zoo (tests/zoo.py's small inputs)."""
from __future__ import annotations

import pytest
import torch

import cnndsl
from cnndsl.lower.onnx import export_onnx
from zoo import ARCHS, FILES, META_ABOVE, small_input

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

OWN_INPUT = {  # the auxiliary heads need the full-size maps
    "googlenet_aux": ("googlenet", {"aux": True}, None),
    "inception_v3_aux": ("inception_v3", {"aux": True}, None),
}
REPRESENTATIVE = ("lenet5", "resnet18", "fractalnet", "resnet110_sd", "squeezenet1_0", "densenet_bc_cifar",
                  "nin")


def _cases():
    for case, (name, params, size) in OWN_INPUT.items():
        yield pytest.param(name, params, size, id=case)
    for path in FILES:
        mark = () if path.stem in REPRESENTATIVE else (pytest.mark.slow,)
        yield pytest.param(path.stem, {}, small_input(path.stem), id=path.stem, marks=mark)


@pytest.mark.parametrize("name, params, size", list(_cases()))
def test_onnxruntime_equals_pytorch_at_batch_1_and_3(tmp_path, name, params, size):
    graph = cnndsl.analyze(ARCHS / f"{name}.arch", input=size, **params)
    if sum(n.meta["params"] for n in graph.ops()) > META_ABOVE:
        pytest.skip("over 40M parameters: not small enough for a test")
    torch.manual_seed(0)
    model = cnndsl.load(ARCHS / f"{name}.arch", input=size, **params).eval()
    export_onnx(graph, tmp_path / "net.onnx", module=model)
    proto = onnx.load(str(tmp_path / "net.onnx"))
    onnx.checker.check_model(proto)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    session = ort.InferenceSession(str(tmp_path / "net.onnx"), providers=["CPUExecutionProvider"])
    for batch in (1, 3):
        x = torch.randn(batch, *model.input_shape)
        with torch.no_grad():
            expected = model(x)
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})
        assert len(got) == len(expected) == len(graph.outputs)
        for e, g in zip(expected, got):
            torch.testing.assert_close(torch.from_numpy(g), e, atol=1e-5, rtol=1e-5)
