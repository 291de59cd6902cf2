"""Docstrings in the native module's stub (`python/magflow_emag/_native.pyi`).

IDEs read a compiled module's documentation from its stub only, so every public class,
function, method and property of the stub carries the docstring the native module has (its
Rust doc comment). `python tests/python/stub_docs.py --write` copies the native docstrings into
the stub where one is missing; test_docstrings.py fails while any is missing.
"""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

STUB = Path(__file__).resolve().parents[2] / "python" / "magflow_emag" / "_native.pyi"


def public(name: str) -> bool:
    return not name.startswith("_")


def missing(tree: ast.Module) -> list:
    """(node, owner class name or None) for each public def/class of the stub without a docstring."""
    out = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and public(node.name):
            if ast.get_docstring(node) is None:
                out.append((node, None))
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and public(item.name) and ast.get_docstring(item) is None:
                        out.append((item, node.name))
    return out


def runtime_doc(native, node, owner) -> str | None:
    obj = getattr(native, owner) if owner else native
    target = getattr(obj, node.name, None)
    doc = inspect.getdoc(target) if target is not None else None
    return doc.strip() if doc else None


def write(native) -> int:
    text = STUB.read_text()
    lines = text.split("\n")
    edits = []
    for node, owner in missing(ast.parse(text)):
        doc = runtime_doc(native, node, owner)
        if not doc:
            continue
        indent = " " * (node.col_offset + 4)
        body = [f'{indent}"""{doc.splitlines()[0]}'] + [
            (indent + line if line else "") for line in doc.splitlines()[1:]
        ]
        body[-1] += '"""'
        if len(body) > 1:
            body.append(f'{indent}"""')
            body[-2] = body[-2][:-3]
        first = node.body[0]
        if isinstance(node, ast.FunctionDef):
            # `def f(...) -> T: ...`: the docstring replaces the `...` body.
            end = first.lineno - 1
            line = lines[end]
            assert line.rstrip().endswith("..."), line
            edits.append((end, end + 1, [line.rstrip()[:-3].rstrip()] + body))
        else:
            edits.append((first.lineno - 1, first.lineno - 1, body))
    # From the bottom up; on one line, the def's own edit before a class docstring above it.
    for start, stop, new in sorted(edits, key=lambda e: (e[0], e[1] - e[0]), reverse=True):
        lines[start:stop] = new
    STUB.write_text("\n".join(lines))
    return len(edits)


if __name__ == "__main__":
    from magflow_emag import _native

    if "--write" in sys.argv:
        print(f"{write(_native)} docstrings written into {STUB}")
    left = missing(ast.parse(STUB.read_text()))
    for node, owner in left:
        print(f"no docstring: {owner + '.' if owner else ''}{node.name}")
    sys.exit(1 if left else 0)
