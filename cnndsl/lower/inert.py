"""A check that generated source does nothing when it is imported but define what it should.

`cnndsl.load` runs the source the emitter wrote, so the emitter's promise (inert whatever the
`.arch` names and file names are) is also checked here, structurally, before anything runs: at top
level only the docstring, the three imports, `__all__` and class definitions; in a class only the
`input_shape`/`output_names` constants, a docstring, and methods; no decorators, no base classes but
torch.nn's, no names beginning with `__` (imports, `exec`, `eval`, `open`, `getattr` and friends
are never called); and every call is to a name the emitter itself uses. It is a second line of
defence: `names.py` already escapes everything.
"""
from __future__ import annotations

import ast

IMPORTS = {("torch", None), ("torch", "nn"), ("typing", "List")}
BASES = {"nn.Module", "nn.Sequential", "nn.LayerNorm"}
# Everything a generated method body may call besides the classes the file defines.
CALLS = {"super", "range", "len", "int", "float", "tuple", "list", "torch.cat", "torch.stack", "torch.rand",
         "torch.randint", "torch.tensor", "torch.ones", "torch.zeros", "torch.empty", "nn.functional.pad",
         "nn.functional.one_hot", "nn.Parameter", "torch.transpose", "torch.full",
         "nn.functional.layer_norm"}
FORBIDDEN_NAMES = {"eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals",
                   "vars", "__import__", "breakpoint", "input", "help", "memoryview", "object", "type"}


class NotInert(ValueError):
    pass


def check_inert(source: str) -> None:
    """Raise NotInert, naming the first construct the emitter never writes."""
    tree = ast.parse(source)
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    for k, node in enumerate(tree.body):
        if isinstance(node, ast.Expr) and k == 0 and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            continue
        if isinstance(node, ast.Import) and [(a.name, a.asname) for a in node.names] == [("torch", None)]:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and \
                all((node.module, a.name) in IMPORTS and a.asname is None for a in node.names):
            continue
        if isinstance(node, ast.Assign) and _is_all(node, classes):
            continue
        if isinstance(node, ast.ClassDef):
            _check_class(node, classes)
            continue
        raise NotInert(f"line {node.lineno}: unexpected top-level {type(node).__name__}")


def _is_all(node: ast.Assign, classes: set[str]) -> bool:
    return (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "__all__"
            and isinstance(node.value, ast.List)
            and all(isinstance(e, ast.Constant) and e.value in classes for e in node.value.elts))


def _check_class(node: ast.ClassDef, classes: set[str]) -> None:
    if node.decorator_list or node.keywords or len(node.bases) != 1 or ast.unparse(node.bases[0]) not in BASES:
        raise NotInert(f"line {node.lineno}: class {node.name} is not a plain nn.Module")
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and not item.decorator_list:
            _check_body(item, classes)
        elif isinstance(item, (ast.Assign, ast.AnnAssign, ast.Expr)) and _constant_only(item):
            continue
        elif not isinstance(item, ast.FunctionDef):
            raise NotInert(f"line {item.lineno}: unexpected {type(item).__name__} in class {node.name}")


def _constant_only(node: ast.AST) -> bool:
    allowed = (ast.Assign, ast.AnnAssign, ast.Expr, ast.Name, ast.Constant, ast.Tuple, ast.List, ast.Subscript,
               ast.Store, ast.Load, ast.Attribute)
    return all(isinstance(n, allowed) for n in ast.walk(node)) and not any(
        isinstance(n, ast.Name) and n.id.startswith("__") for n in ast.walk(node))


def _check_body(fn: ast.FunctionDef, classes: set[str]) -> None:
    for n in ast.walk(fn):
        if isinstance(n, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Lambda, ast.ClassDef,
                          ast.AsyncFunctionDef, ast.Await, ast.Yield, ast.YieldFrom, ast.With, ast.Try)):
            raise NotInert(f"line {n.lineno}: {type(n).__name__} in {fn.name}")
        if isinstance(n, ast.FunctionDef) and n is not fn:
            raise NotInert(f"line {n.lineno}: nested function in {fn.name}")
        if isinstance(n, ast.Name) and (n.id.startswith("__") or n.id in FORBIDDEN_NAMES):
            raise NotInert(f"line {n.lineno}: name {n.id} in {fn.name}")
        if isinstance(n, ast.Attribute) and n.attr.startswith("__") and ast.unparse(n) != "super().__init__":
            raise NotInert(f"line {n.lineno}: attribute {n.attr} in {fn.name}")
        if isinstance(n, ast.Call) and not _allowed_call(n.func, classes):
            raise NotInert(f"line {n.lineno}: call of {ast.unparse(n.func)} in {fn.name}")


def _allowed_call(func: ast.expr, classes: set[str]) -> bool:
    text = ast.unparse(func)
    if text in CALLS or text in classes or text == "super().__init__":
        return True
    if not isinstance(func, ast.Attribute):
        return False
    owner = ast.unparse(func.value)
    if owner == "nn":
        return func.attr[:1].isupper()  # a torch.nn module class
    if owner == "self":
        return True  # a submodule, add_module, register_buffer
    if owner in ("torch", "nn.functional", "super()"):
        return False  # only the ones listed in CALLS
    return func.attr in METHODS  # a tensor method: x.index_select(...), keep.to(...)


# bernoulli_ and div_: DropPath(scale="train") draws as torchvision's stochastic_depth does;
# add_: a residual add into its dead first operand (torchvision's `out += identity`)
METHODS = {"index_select", "to", "view", "mean", "sum", "any", "float", "size", "contiguous", "permute", "bernoulli_",
           "div_", "add_"}
