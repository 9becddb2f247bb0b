"""Loads the user's model class from ``path/to/file.py:Class`` or ``package.module:Class``.

Loading runs the user's code, which is what importing their model means; what
it leaves behind (the module, its folder on ``sys.path``, sibling modules it
imported) is removed again so a later import of a same-named file is not
shadowed. Every failure is one :class:`ModelImportError` line, never a traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from designer.graph.errors import GraphError

if TYPE_CHECKING:
    from torch import nn

MESSAGE_LIMIT = 300  # characters of a user's exception message worth showing


class ModelImportError(GraphError):
    """A model that cannot be loaded or imported; the message says why in one line."""


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def exc_text(exc: BaseException) -> str:
    message = one_line(public_name(str(exc)))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


_INTERNAL = re.compile(r"_designer_import_\d+")
_file_names: dict[str, str] = {}  # the module name a loaded file ran under -> the file's own stem


def public_name(text: str) -> str:
    """``_designer_import_3.channel_shuffle`` as the user knows it: ``model.channel_shuffle``."""
    return _INTERNAL.sub(lambda found: _file_names.get(found.group(), "model"), text)


# -- loading the user's class --------------------------------------------------

_loaded = itertools.count(1)


def load_model(spec: str, args_json: str | None = None) -> nn.Module:
    """An instance of the class ``spec`` names, built with the JSON constructor arguments.

    ``args_json`` is an object of keyword arguments or a list of positional ones.
    Loading a file runs it: that is the point, it is the user's own model code.
    """
    where, _, attr = spec.rpartition(":")
    if not where or not attr:
        raise ModelImportError(f"{spec!r} names no class: give path/to/file.py:ClassName "
                               "or package.module:ClassName")
    args, kwargs = _parse_args(args_json)
    module = _load_file(Path(where)) if _is_path(where) else _load_package(where)
    return _instantiate(_find(module, where, attr), attr, args, kwargs)


def _is_path(where: str) -> bool:
    dotted = all(part.isidentifier() for part in where.split("."))
    return where.endswith(".py") or "/" in where or "\\" in where or not dotted


def _parse_args(args_json: str | None) -> tuple[list[Any], dict[str, Any]]:
    if args_json is None or not args_json.strip():
        return [], {}
    try:
        value = json.loads(args_json)
    except json.JSONDecodeError as exc:
        raise ModelImportError(f"the constructor arguments are not valid JSON ({exc.msg} at column "
                               f"{exc.colno}): give an object such as '{{\"num_classes\": 10}}'") from None
    if isinstance(value, dict):
        return [], value
    if isinstance(value, list):
        return value, {}
    raise ModelImportError("the constructor arguments must be a JSON object of keyword arguments "
                           f"or a list, not {json.dumps(value)}")


def _load_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise ModelImportError(f"{path}: no such file")
    # A fresh name per load keeps two files both called model.py apart.
    name = f"_designer_import_{next(_loaded)}"
    _file_names[name] = path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ModelImportError(f"{path}: not a Python file")
    loader, module = spec.loader, importlib.util.module_from_spec(spec)
    with _user_module(name, module, path.resolve().parent):
        _run_user_code(lambda: loader.exec_module(module), path.name)
    return module


@contextlib.contextmanager
def _user_module(name: str, module: ModuleType, folder: Path) -> Iterator[None]:
    """Run a file as Python runs a script: its folder importable, itself in sys.modules."""
    sys.modules[name] = module  # dataclasses and typing look the module up while it runs
    try:
        with _importable(folder):
            yield
    finally:
        sys.modules.pop(name, None)


@contextlib.contextmanager
def _importable(folder: Path) -> Iterator[None]:
    """The modules in ``folder`` importable, first, while the user's code loads.

    Afterwards the folder leaves sys.path and the modules loaded from it leave sys.modules,
    so a later import of another file with the same sibling names, or of the same module
    edited since, does not get these.
    """
    before = set(sys.modules)
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(folder))
        for added in set(sys.modules) - before:
            if _from_folder(added, sys.modules[added], folder):
                del sys.modules[added]


def _from_folder(name: str, module: ModuleType, folder: Path) -> bool:
    """Whether ``module`` was found in ``folder`` itself, not in a library that lies below it."""
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return False
    top, path = name.split(".")[0], Path(file).resolve()
    return path == folder / f"{top}.py" or path.is_relative_to(folder / top)


def _load_package(name: str) -> ModuleType:
    """``package.module`` found as ``python -m`` finds it: in the current folder first, then installed."""
    found: list[ModuleType] = []
    try:
        here = Path.cwd()
    except OSError:  # the current folder was removed: only installed modules can be found
        here = None
    with _importable(here) if here is not None else contextlib.nullcontext():
        _run_user_code(lambda: found.append(importlib.import_module(name)), name)
    return found[0]


def _run_user_code(run: Callable[[], object], label: str) -> None:
    try:
        run()
    except SyntaxError as exc:
        where = f"{Path(exc.filename).name} line {exc.lineno}" if exc.filename else f"line {exc.lineno}"
        raise ModelImportError(f"cannot import {label}: syntax error in {where}: {exc.msg}") from None
    except (Exception, SystemExit) as exc:
        raise ModelImportError(f"cannot import {label}: {exc_text(exc)}") from None


def _find(module: ModuleType, where: str, attr: str) -> Any:
    found: Any = module
    for part in attr.split("."):
        found = getattr(found, part, None)
        if found is None:
            known = _classes(module)
            hint = f" (it defines {', '.join(known)})" if 0 < len(known) <= 12 else ""
            raise ModelImportError(f"{where} has no class {attr!r}{hint}")
    return found


def _classes(module: ModuleType) -> list[str]:
    """The classes defined in ``module``: its nn.Module subclasses if it has any."""
    import torch.nn as nn

    own = [(key, value) for key, value in vars(module).items()
           if inspect.isclass(value) and value.__module__ == module.__name__]
    models = [key for key, value in own if issubclass(value, nn.Module)]
    return models or [key for key, _ in own]


def _instantiate(found: Any, attr: str, args: list[Any], kwargs: dict[str, Any]) -> nn.Module:
    import torch.nn as nn

    if inspect.isclass(found):
        if not issubclass(found, nn.Module):
            raise ModelImportError(f"{attr} is not a torch.nn.Module subclass")
    elif not _builds_a_module(found):
        # Never call what is not known to build a model: `os:system` would run a shell command.
        what = "a function" if callable(found) else f"a {type(found).__name__}"
        raise ModelImportError(f"{attr} is {what}, not a torch.nn.Module class (a function is imported only "
                               "when its return annotation is an nn.Module class, like `-> ResNet`)")
    _check_arguments(found, attr, args, kwargs)
    try:
        model = found(*args, **kwargs)
    except (Exception, SystemExit) as exc:
        raise ModelImportError(f"{attr}() fails: {exc_text(exc)}") from None
    if not isinstance(model, nn.Module):
        raise ModelImportError(f"{attr}() gives a {type(model).__name__}, not a torch.nn.Module")
    return model


def _builds_a_module(found: Any) -> bool:
    """Whether ``found`` is a factory function whose return annotation is an nn.Module subclass."""
    import typing

    import torch.nn as nn

    if not inspect.isfunction(found):
        return False
    try:
        returned = typing.get_type_hints(found).get("return")
    except Exception:  # an annotation that does not resolve tells nothing
        return False
    return inspect.isclass(returned) and issubclass(returned, nn.Module)


def _check_arguments(found: Any, attr: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    try:
        signature = inspect.signature(found)
    except (TypeError, ValueError):
        return  # no signature to read (a builtin): the call itself will say
    try:
        signature.bind(*args, **kwargs)
        return
    except TypeError as exc:
        refusal = one_line(str(exc))
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    given = {p.name for p in positional[:len(args)]} | set(kwargs)
    missing = [p for p in params if p.default is p.empty and p.name not in given
               and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not missing:
        raise ModelImportError(f"{attr}() does not take these arguments: {refusal}")
    example = json.dumps({p.name: _example_value(p) for p in missing})
    raise ModelImportError(f"{attr}() needs arguments: pass them as JSON with --args, e.g. '{example}' "
                           f"(missing: {', '.join(p.name for p in missing)})")


def _example_value(param: inspect.Parameter) -> Any:
    annotation = param.annotation
    kind = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return {"float": 0.5, "bool": True, "str": "text"}.get(kind, 10)
