"""Lowering: the graph IR -> PyTorch (a module, standalone Python source, ONNX). Imports torch only
when a module is built or exported; generating source needs no torch."""
