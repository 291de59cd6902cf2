"""Every public class, function, method and property has a docstring, at run time (help())
and in the native module's stub (what IDEs show)."""

import ast
import inspect
import sys
from pathlib import Path

import magflow_emag as m
import magflow_emag.errors
import magflow_emag.testing

sys.path.insert(0, str(Path(__file__).parent))
import stub_docs  # noqa: E402


def _members(cls):
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if callable(value) or isinstance(value, (property, staticmethod, classmethod)) or inspect.isdatadescriptor(value):
            yield name, getattr(cls, name, value)


def _undocumented():
    missing = []
    for module in (m, magflow_emag.errors, magflow_emag.testing):
        for name in getattr(module, "__all__", []):
            if name.startswith("_"):
                continue
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or callable(obj)):
                continue
            if not inspect.getdoc(obj):
                missing.append(f"{module.__name__}.{name}")
            if inspect.isclass(obj) and not issubclass(obj, BaseException):
                for attr, value in _members(obj):
                    if not inspect.getdoc(value):
                        missing.append(f"{module.__name__}.{name}.{attr}")
    return sorted(set(missing))


def test_every_public_name_has_a_docstring():
    assert _undocumented() == []


def test_the_client_namespaces_are_documented():
    missing = []
    sync = m.Client("u", "p", base_url="http://127.0.0.1:9/api-3", rate_limiter=False)
    aio = m.AsyncClient("u", "p", base_url="http://127.0.0.1:9/api-3", rate_limiter=False)
    namespaces = [(f"client.{k}", v) for k, v in vars(sync).items() if not k.startswith("_")]
    namespaces += [(f"async_client.{k}", v) for k, v in vars(aio).items() if not k.startswith("_")]
    for ns_name, ns in namespaces:
        for attr in dir(ns):
            if attr.startswith("_"):
                continue
            value = getattr(ns, attr)
            if callable(value) and not inspect.getdoc(value):
                missing.append(f"{ns_name}.{attr}")
    assert missing == []


def test_help_reads_the_docstrings():
    text = inspect.getdoc(m.Client)
    assert text and "username" in text
    assert "escape hatch" in inspect.getdoc(m.Client.call)


def test_the_stub_documents_every_public_name():
    tree = ast.parse(stub_docs.STUB.read_text())
    missing = [f"{owner + '.' if owner else ''}{node.name}" for node, owner in stub_docs.missing(tree)]
    assert missing == [], "run: python tests/python/stub_docs.py --write"
