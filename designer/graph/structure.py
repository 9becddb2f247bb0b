"""How the exported file nests: groups as ``nn.Module`` classes, the same structure as one class.

A 300-block network is not 300 lines in one ``forward``: each group becomes a
module (a ``BasicBlock``, a stage), groups of the same structure share one
class whose constructor takes what differs between them (``in_channels``,
``stride``), and a group whose blocks are numbered ``0, 1, …`` and run one
after another is an ``nn.Sequential``, as the code it was imported from wrote it.
The state_dict keys follow the nesting (``layer1.0.conv1.weight``), so a network
imported from torchvision-style code, edited and exported, loads its weights
with ``strict=True`` into the class it came from.

The compiled module stays flat (one generated ``forward``, no call per group:
see :mod:`designer.graph.compile`) and so do its checkpoints; :func:`export_keys`
maps its state_dict keys to the nested ones when weights are exported.

A group cannot be a module where a value leaves it and comes back in (the
module would have to be called twice), where it holds an Input, or where its
module calls would form a cycle among its siblings; such a group is written
inline in the module around it, as if it were not there.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from designer.graph.compile import Plan, Step, module_attribute_names
from designer.graph.graph import Graph
from designer.graph.naming import Namespace, class_name
from designer.graph.spec import Arg, ModuleCall, _literal

HOLE = "\0"  # where a constructor argument goes in a call template


@dataclass
class Scope:
    """The root module or one group's module: what it holds, in forward order, and what flows in and out."""

    group: str | None
    members: frozenset[str]  # every block inside
    items: list[str | Scope] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)  # blocks outside whose values it reads
    outputs: list[str] = field(default_factory=list)  # its blocks whose values are read outside
    attr: str = ""  # its attribute in the module around it
    kind: str = ""


# -- which groups become modules --------------------------------------------------------


def scopes(graph: Graph, p: Plan) -> Scope:
    """The root scope, with the groups that can be modules nested in it."""
    order = {name: i for i, name in enumerate(graph.topological_order())}
    kept = {g for g in graph.groups if _can_be_module(graph, g, order)}
    while True:
        root = _build(graph, p, kept, order)
        stuck = _cyclic_groups(graph, root, order)
        if not stuck:
            return root
        kept -= stuck


def _can_be_module(graph: Graph, group: str, order: Mapping[str, int]) -> bool:
    members = graph.groups[group].members
    if any(graph.node(n).spec.is_input for n in members):
        return False
    # No value may leave the group and come back in: everything downstream of an exit, stopping
    # at the group, must not reach it.
    seen: set[str] = set()
    frontier = [e.target for n in members for e in graph.out_edges(n) if e.target not in members]
    last = max(order[n] for n in members)
    while frontier:
        node = frontier.pop()
        if node in seen or order[node] > last:
            continue
        seen.add(node)
        for edge in graph.out_edges(node):
            if edge.target in members:
                return False
            frontier.append(edge.target)
    return True


def _build(graph: Graph, p: Plan, kept: set[str], order: Mapping[str, int]) -> Scope:
    def nearest(group: str | None) -> str | None:
        while group is not None and group not in kept:
            group = graph.groups[group].parent
        return group

    root = Scope(None, frozenset(graph.nodes))
    made: dict[str | None, Scope] = {None: root}

    def scope_of(group: str | None) -> Scope:
        if group not in made:
            assert group is not None
            info = graph.groups[group]
            made[group] = Scope(group, info.members, kind=info.kind)
            scope_of(nearest(info.parent)).items.append(made[group])
        return made[group]

    for name in graph.topological_order():
        if graph.node(name).spec.is_input:
            continue
        inner = graph.groups.of(name)
        scope_of(nearest(inner)).items.append(name)
    for scope in made.values():
        _interface(graph, scope, order)
    root.inputs = [n for n in graph.topological_order() if graph.node(n).spec.is_input]
    root.outputs = graph.outputs()
    return root


def _interface(graph: Graph, scope: Scope, order: Mapping[str, int]) -> None:
    if scope.group is None:
        return
    inside = scope.members
    inputs = {e.source for n in inside for e in graph.in_edges(n) if e.source not in inside}
    returned = set(graph.outputs())
    outputs = {n for n in inside if n in returned or any(e.target not in inside for e in graph.out_edges(n))}
    scope.inputs = sorted(inputs, key=order.__getitem__)
    scope.outputs = sorted(outputs, key=order.__getitem__)


def _first(item: str | Scope, order: Mapping[str, int]) -> int:
    return order[item] if isinstance(item, str) else min(order[n] for n in item.members)


def _cyclic_groups(graph: Graph, scope: Scope, order: Mapping[str, int]) -> set[str]:
    """Put each scope's items in an order that runs; the groups that cannot be ordered, if any."""
    stuck: set[str] = set()
    owner: dict[str, int] = {}
    for i, item in enumerate(scope.items):
        for name in ([item] if isinstance(item, str) else item.members):
            owner[name] = i
    after: dict[int, set[int]] = {i: set() for i in range(len(scope.items))}
    needs = [0] * len(scope.items)
    for edge in graph.edges:
        a, b = owner.get(edge.source), owner.get(edge.target)
        if a is not None and b is not None and a != b and b not in after[a]:
            after[a].add(b)
            needs[b] += 1
    ready = [(_first(item, order), i) for i, item in enumerate(scope.items) if not needs[i]]
    heapq.heapify(ready)
    ordered: list[int] = []
    while ready:
        _, i = heapq.heappop(ready)
        ordered.append(i)
        for j in after[i]:
            needs[j] -= 1
            if not needs[j]:
                heapq.heappush(ready, (_first(scope.items[j], order), j))
    if len(ordered) < len(scope.items):
        left = set(range(len(scope.items))) - set(ordered)
        return {item.group for i in left if isinstance(item := scope.items[i], Scope) and item.group}
    scope.items = [scope.items[i] for i in ordered]
    for item in scope.items:
        if isinstance(item, Scope):
            stuck |= _cyclic_groups(graph, item, order)
    return stuck


# -- local names ------------------------------------------------------------------------------


def local_name(name: str, group: str) -> str:
    """A block's or inner group's name inside ``group``: ``layer1.0.conv1`` in ``layer1.0`` is ``conv1``,
    and ``conv_2`` in ``stage_2`` (a repeated copy of ``stage``) is ``conv``."""
    for separator in (".", "_", "-", " "):
        if name.startswith(group + separator) and len(name) > len(group) + 1:
            return name[len(group) + 1:]
    copy = re.fullmatch(r".*?([_-]\d+)", group)
    if copy and name.endswith(copy.group(1)) and len(name) > len(copy.group(1)):
        return name[: -len(copy.group(1))]
    return name



@dataclass(frozen=True)
class Call:
    """A constructor call with its literal arguments taken out: ``template`` holds one HOLE for each."""

    template: str
    holes: tuple[str, ...]  # a name for each argument, for when it becomes a constructor parameter
    values: tuple[Any, ...]

    def render(self, names: Mapping[int, str] | None = None) -> str:
        """The call's text; the holes in ``names`` (by position) are written as those names."""
        parts = self.template.split(HOLE)
        out = [parts[0]]
        for i, (value, text) in enumerate(zip(self.values, parts[1:], strict=True)):
            out.append(names[i] if names and i in names else _literal(value))
            out.append(text)
        return "".join(out)


def block_call(call: ModuleCall) -> Call:
    """A block's constructor call with its arguments as holes (a text call, a learned tensor, has none)."""
    if call.text is not None:
        return Call(call.text, (), ())
    head = f"{'' if call.helper else 'nn.'}{call.cls}("
    parts = [HOLE] * len(call.args) + [f"{key}={HOLE}" for key, _ in call.kwargs]
    holes = tuple(f"{call.cls}:{i}" for i in range(len(call.args))) + tuple(k for k, _ in call.kwargs)
    return Call(head + ", ".join(parts) + ")", holes, (*call.args, *(v for _, v in call.kwargs)))


# -- each module's code -------------------------------------------------------------------------


@dataclass
class Module:
    """One scope written out: its attributes and forward lines, named as in its first instance."""

    scope: Scope
    members: list[tuple[str, Call | Module, str]]  # (attribute, how it is made, its name inside the group)
    lines: list[tuple[str, str, str]]  # (targets, expression, comment)
    arguments: list[str]
    returns: list[str]
    signature: tuple[Any, ...]  # equal for modules of the same structure, whatever their names
    blocks: list[str | None]  # the block each member is, None for an inner module
    sequential: bool = False
    named: bool = False  # a Sequential whose items keep their names (``block1-0``), in an OrderedDict
    cls: Class | None = None


@dataclass
class Class:
    """A class written once for every module of one structure."""

    name: str
    instances: list[Module]
    parameters: list[str] = field(default_factory=list)
    holes: dict[tuple[int, int], str] = field(default_factory=dict)  # (member, hole) -> parameter
    values: list[tuple[Any, ...]] = field(default_factory=list)  # each instance's parameter values


@dataclass
class Structure:
    root: Module
    classes: list[Class]  # in the order they are written: every class after those it uses

    @property
    def uses_ordered_dict(self) -> bool:
        return any(m.named for m in _modules(self.root))

    def member_call(self, module: Module, index: int) -> Call:
        made = module.members[index][1]
        return made if isinstance(made, Call) else self.instance_call(made)

    def instance_call(self, module: Module) -> Call:
        if module.sequential:
            names = [raw for _, _, raw in module.members] if module.named else None
            return sequential_call((self.member_call(module, i) for i in range(len(module.members))), names)
        assert module.cls is not None
        cls = module.cls
        values = cls.values[cls.instances.index(module)]
        holes = ", ".join([HOLE] * len(cls.parameters))
        return Call(f"{cls.name}({holes})", tuple(cls.parameters), values)


def structure(graph: Graph, p: Plan, taken: Iterable[str] = ()) -> Structure:
    """The modules and classes the exported file is made of; ``taken`` are class names in use."""
    steps = {step.name: step for step in p.steps}
    root = _emit(graph, p, steps, scopes(graph, p))
    classes = _classes(root, set(taken) | {p.class_name})
    result = Structure(root, classes)
    for cls in classes:
        _parameters(result, cls)
    return result


def _modules(module: Module) -> list[Module]:
    inner = [m for _, m, _ in module.members if isinstance(m, Module)]
    return [module, *(m for i in inner for m in _modules(i))]


def export_keys(graph: Graph, p: Plan) -> dict[str, str]:
    """The compiled module's attribute for each block with weights -> its path in the exported file."""
    paths = attribute_paths(structure(graph, p).root)
    return {p.idents[name]: paths[name] for name in p.modules}


def attribute_paths(module: Module) -> dict[str, str]:
    """Each block with weights -> its attribute path from ``module`` (``layer1.0.conv1``).

    A module of a shared class has the attribute names of the class's first instance.
    """
    if module.sequential:
        names = [raw for _, _, raw in module.members] if module.named else \
            [str(j) for j in range(len(module.members))]
    elif module.cls is not None:
        names = [attr for attr, _, _ in module.cls.instances[0].members]
    else:
        names = [attr for attr, _, _ in module.members]
    paths: dict[str, str] = {}
    for name, (_, made, _), block in zip(names, module.members, module.blocks, strict=True):
        if block is not None:
            paths[block] = name
        else:
            assert isinstance(made, Module)
            paths.update({b: f"{name}.{path}" for b, path in attribute_paths(made).items()})
    return paths


def _emit(graph: Graph, p: Plan, steps: Mapping[str, Step], scope: Scope) -> Module:
    root = scope.group is None
    names = Namespace(module_attribute_names() | (set(p.idents.values()) if root else set()))
    if root:
        arguments = [p.idents[n] for n in scope.inputs]
    else:
        arguments = ["x"] if len(scope.inputs) == 1 else [f"x{i + 1}" for i in range(len(scope.inputs))]
        names = Namespace(module_attribute_names() | set(arguments))
    value = dict(zip(scope.inputs, arguments, strict=True))
    canonical = {name: f"a{i}" for i, name in enumerate(scope.inputs)}
    members: list[tuple[str, Call | Module, str]] = []
    blocks: list[str | None] = []
    lines: list[tuple[str, str, str]] = []
    signature: list[Any] = [len(scope.inputs)]
    for i, item in enumerate(scope.items):
        if isinstance(item, str):
            raw = local_name(item, scope.group or "")
            local = p.idents[item] if root else names(raw)
            call = block_call(p.modules[item]) if item in p.modules else None
            if call is not None:
                members.append((local, call, raw))
                blocks.append(item)
            step = steps[item]
            sources = graph.sources(item)
            args = tuple(Arg(value[s], a.batched, a.rank) for s, a in zip(sources, step.args, strict=True))
            plain = tuple(Arg(canonical[s], a.batched, a.rank) for s, a in zip(sources, step.args, strict=True))
            lines.append((local, step.forward(args, step.params, f"self.{local}"),
                          graph.result(item).shape_text))
            signature.append(("block", call.template if call else None, step.forward(plain, step.params, "L")))
            value[item], canonical[item] = local, f"v{i}"
            continue
        inner = _emit(graph, p, steps, item)
        raw = local_name(item.group or "", "" if root else scope.group or "")
        attr = item.attr = names(raw)
        members.append((attr, inner, raw))
        blocks.append(None)
        count = len(item.outputs)
        targets = [attr] if count == 1 else [names(f"{attr}_{k + 1}") for k in range(count)]
        arguments_in = ", ".join(value[s] for s in item.inputs)
        lines.append((", ".join(targets), f"self.{attr}({arguments_in})", ""))
        reads = tuple(canonical[s] for s in item.inputs)
        signature.append(("module", inner.signature, inner.sequential, reads))
        for k, (out, target) in enumerate(zip(item.outputs, targets, strict=True)):
            value[out], canonical[out] = target, f"v{i}_{k}"
    signature.append(tuple(canonical[o] for o in scope.outputs))
    returns = [value[o] for o in scope.outputs]
    module = Module(scope, members, lines, arguments, returns, tuple(signature), blocks)
    module.sequential = _is_sequential(module)
    raws = [raw for _, _, raw in module.members]
    module.named = module.sequential and raws != [str(i) for i in range(len(raws))]
    return module


def _is_sequential(module: Module) -> bool:
    """Whether the module can be an ``nn.Sequential``: items each feeding the next alone, named 0, 1, …,
    or with names that are no identifiers (``block1-0``), which only a Sequential keeps."""
    if module.scope.group is None or len(module.arguments) != 1 or len(module.returns) != 1:
        return False
    raws = [raw for _, _, raw in module.members]
    if raws != [str(i) for i in range(len(raws))] and (all(r.isidentifier() for r in raws) or
                                                         not all(_module_name(r) for r in raws)):
        return False
    if len(module.lines) != len(module.members):
        return False
    previous = module.arguments[0]
    for (attr, _, _), (target, expression, _) in zip(module.members, module.lines, strict=True):
        if expression != f"self.{attr}({previous})" or "," in target:
            return False
        previous = target
    return module.returns == [previous]


def _module_name(name: str) -> bool:
    """Whether torch takes ``name`` as a submodule's name (``add_module`` refuses dots and "")."""
    return bool(name) and "." not in name and name.isprintable()


def _name_literal(name: str) -> str:
    """A string literal as ruff format writes it: single quotes when that saves escaping double ones."""
    text = _literal(name)
    if '"' in name and "'" not in name:
        return "'" + text[1:-1].replace('\\"', '"') + "'"
    return text


def sequential_call(calls: Iterable[Call], names: list[str] | None = None) -> Call:
    chosen = list(calls)
    if names is not None:
        items = ", ".join(f"({_name_literal(n)}, {c.template})" for n, c in zip(names, chosen, strict=True))
        template = f"nn.Sequential(OrderedDict([{items}]))"
    else:
        template = "nn.Sequential(" + ", ".join(c.template for c in chosen) + ")"
    holes = tuple(h for c in chosen for h in c.holes)
    return Call(template, holes, tuple(v for c in chosen for v in c.values))


def _classes(root: Module, taken: set[str]) -> list[Class]:
    """One class per structure, written after the classes it uses."""
    by_signature: dict[tuple[Any, ...], Class] = {}
    ordered: list[Class] = []

    def visit(module: Module) -> None:
        for _, made, _ in module.members:
            if isinstance(made, Module):
                visit(made)
        if module.scope.group is None or module.sequential:
            return
        cls = by_signature.get(module.signature)
        if cls is None:
            cls = by_signature[module.signature] = Class(_class_name(module.scope, taken), [])
            ordered.append(cls)
        cls.instances.append(module)
        module.cls = cls

    visit(root)
    return ordered


def _class_name(scope: Scope, taken: set[str]) -> str:
    """``BasicBlock`` from the class the group was imported from, else from its name (``stage2``: ``Stage``)."""
    if scope.kind and scope.kind not in ("Sequential", "Module"):
        stem = scope.kind
    else:
        stem = re.sub(r"[\W_]*\d+$", "", scope.attr) or scope.attr
    base = class_name(stem)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


def _parameters(structure: Structure, cls: Class) -> None:
    """What differs between a class's instances becomes its constructor's parameters."""
    calls = [[structure.member_call(m, j) for j in range(len(m.members))] for m in cls.instances]
    first = cls.instances[0]
    by_values: dict[tuple[Any, ...], str] = {}
    for j, call in enumerate(calls[0]):
        for h, hole in enumerate(call.holes):
            values = tuple(instance[j].values[h] for instance in calls)
            if all(_same(v, values[0]) for v in values):
                continue
            key = tuple((type(v), v) for v in values)
            if key not in by_values:
                by_values[key] = _parameter_name(hole, first.members[j][0], set(by_values.values()))
                cls.parameters.append(by_values[key])
            cls.holes[(j, h)] = by_values[key]
    cls.values = [tuple(_value_of(cls, calls[i], name) for name in cls.parameters)
                  for i in range(len(cls.instances))]


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _value_of(cls: Class, calls: list[Call], parameter: str) -> Any:
    j, h = next(key for key, name in cls.holes.items() if name == parameter)
    return calls[j].values[h]


def _parameter_name(hole: str, attr: str, taken: set[str]) -> str:
    name = _argument_name(hole)
    for candidate in (name, f"{attr}_{name}"):
        if candidate not in taken and candidate.isidentifier() and candidate not in ("self", "x"):
            return candidate
    n = 2
    while f"{attr}_{name}_{n}" in taken:
        n += 1
    return f"{attr}_{name}_{n}"


def _argument_name(hole: str) -> str:
    """``in_channels`` for the first argument of ``nn.Conv2d`` (hole ``Conv2d:0``); a keyword is its name."""
    if ":" not in hole:
        return hole
    cls, index = hole.rsplit(":", 1)
    try:
        import inspect

        import torch.nn as nn

        from designer.graph.helpers import helper_namespace

        target = getattr(nn, cls, None) or helper_namespace((cls,))[cls]
        names = [n for n in inspect.signature(target).parameters if n not in ("self", "args", "kwargs")]
        return names[int(index)]
    except (ImportError, TypeError, ValueError, IndexError, KeyError):
        return f"{cls.lower()}_{index}"
