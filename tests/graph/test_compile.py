"""graph.to_torch(): module names, generated forward, equivalence with a hand-written net."""

import pytest
import torch
from torch import nn

import designer
from designer.graph import Graph, GraphError
from designer.graph.naming import Namespace
from designer.graph.templates import template_names


def test_state_dict_keys_are_the_node_names():
    model = designer.load("alexnet").to_torch()
    keys = list(model.state_dict())
    assert keys[:2] == ["conv1.weight", "conv1.bias"]
    assert "fc8.weight" in keys


def test_forward_is_generated_source_not_an_interpreter():
    model = designer.load("lenet5").to_torch()
    assert 'c1 = modules["c1"](input_)' in model.code
    assert model.code.strip().endswith("return output")
    assert type(model).__name__ == "Lenet5"


@pytest.mark.parametrize("name", ["lenet5", "alexnet-cifar", "resnet18", "inception", "vgg16-cifar"])
def test_templates_run_and_give_the_inferred_shapes(name):
    graph = designer.load(name)
    model = graph.to_torch().eval()
    (inp,) = graph.inputs()
    x = torch.randn(2, *graph.result(inp).shape)
    (out,) = graph.outputs()
    with torch.no_grad():
        y = model(x)
    assert tuple(y.shape) == (2, *graph.result(out).shape)


def test_compiled_equals_the_same_net_written_by_hand():
    g = Graph()
    g.add_node("Input", "x", {"shape": [3, 16, 16]})
    g.add_node("Conv2d", "a", {"out_channels": 8, "padding": 1})
    g.add_node("Conv2d", "b", {"out_channels": 8, "kernel_size": 1})
    g.add_node("Add", "sum")
    g.add_node("ReLU", "act")
    g.add_node("Concat", "cat")
    g.add_node("AdaptiveAvgPool2d", "gap")
    g.add_node("Flatten", "flat")
    g.add_node("Linear", "fc", {"out_features": 5})
    for s, t in [("x", "a"), ("x", "b"), ("a", "sum"), ("b", "sum"), ("sum", "act"),
                 ("act", "cat"), ("a", "cat"), ("cat", "gap"), ("gap", "flat"), ("flat", "fc")]:
        g.connect(s, t)

    class Hand(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 8, 3, padding=1)
            self.b = nn.Conv2d(3, 8, 1)
            self.act = nn.ReLU()
            self.gap = nn.AdaptiveAvgPool2d(1)
            self.flat = nn.Flatten()
            self.fc = nn.Linear(16, 5)

        def forward(self, x):
            a, b = self.a(x), self.b(x)
            act = self.act(a + b)
            return self.fc(self.flat(self.gap(torch.cat([act, a], dim=1))))

    compiled, hand = g.to_torch(), Hand()
    compiled.load_state_dict(hand.state_dict(), strict=True)
    x = torch.randn(4, 3, 16, 16)
    assert torch.equal(compiled(x), hand(x))


def test_several_inputs_and_outputs():
    g = Graph()
    g.add_node("Input", "left", {"shape": [4]})
    g.add_node("Input", "right", {"shape": [4]})
    g.add_node("Add", "sum")
    g.add_node("Linear", "head_a", {"out_features": 2})
    g.add_node("Linear", "head_b", {"out_features": 3})
    for s, t in [("left", "sum"), ("right", "sum"), ("sum", "head_a"), ("sum", "head_b")]:
        g.connect(s, t)
    a, b = g.to_torch()(torch.ones(1, 4), torch.ones(1, 4))
    assert a.shape == (1, 2) and b.shape == (1, 3)


def test_a_graph_with_errors_does_not_compile():
    g = Graph()
    g.add_node("Input", "x", {"shape": [3, 8, 8]})
    g.add_node("Conv2d", "big", {"kernel_size": 11})
    g.connect("x", "big")
    with pytest.raises(GraphError, match="big: kernel 11 is larger than the padded input 8"):
        g.to_torch()


def test_hostile_names_become_safe_identifiers():
    names = ['conv"1', "a\nb", '"""', "# c", "__import__('os')", "卷积1", "forward", "class", "1st", ""]
    ns = Namespace({"forward"})
    idents = [ns(n) for n in names[:-1]]
    assert len(set(idents)) == len(idents)
    for ident in idents:
        assert ident.isidentifier() and not ident.startswith("__")
    assert ns("class") == "class_" and ns("forward") == "forward_"
    assert ns("卷积1") == "卷积1"


def test_hostile_node_names_compile_and_run():
    g = Graph()
    g.add_node("Input", "input", {"shape": [4]})
    g.add_node("Linear", "__import__('os').system('x')", {"out_features": 3})
    g.add_node("ReLU", 'a"b\nc')
    g.connect("input", "__import__('os').system('x')")
    g.connect("__import__('os').system('x')", 'a"b\nc')
    model = g.to_torch()
    assert "system" not in model.code.replace("import_os_system_x", "")
    assert model(torch.ones(2, 4)).shape == (2, 3)


@pytest.mark.parametrize("name", template_names())
def test_macs_match_torch_flop_counter(name):
    from torch.utils.flop_counter import FlopCounterMode

    graph = designer.load(name)
    model = graph.to_torch().eval().to("meta")  # FlopCounterMode counts from shapes alone
    (inp,) = graph.inputs()
    x = torch.empty(1, *graph.result(inp).shape, device="meta")
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    assert sum(r.macs for r in graph.results.values()) == counter.get_total_flops() // 2
