"""Backends: interpreters over the graph IR. Only `torch_module`, `python_source` and `onnx` import
torch, and only when called."""
