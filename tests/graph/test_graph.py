"""The graph model: connecting, refusing, events, live and incremental inference."""

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from designer.graph import Graph
from designer.graph.errors import (
    ArityError,
    ConnectError,
    CycleError,
    DuplicateNameError,
    GraphError,
    ParamError,
    PortTakenError,
    RankMismatchError,
)


def chain(*specs):
    """A graph input → specs[0] → specs[1] ...; each spec is (type, params)."""
    g = Graph()
    g.add_node("Input", "input", {"shape": [3, 32, 32]})
    last = "input"
    for type_, params in specs:
        node = g.add_node(type_, params=params)
        g.connect(last, node.name)
        last = node.name
    return g


class Recorder:
    def __init__(self, graph):
        self.seen = []
        for event in graph.events.all():
            event.connect(lambda *args, name=event.name: self.seen.append((name, args)))

    def names(self):
        return [name for name, _ in self.seen]


def test_default_names_count_up_per_block_type():
    g = Graph()
    assert g.add_node("Conv2d").name == "conv1"
    assert g.add_node("Conv2d").name == "conv2"
    assert g.add_node("Linear").name == "fc1"


def test_duplicate_and_empty_names_are_refused():
    g = Graph()
    g.add_node("ReLU", "a")
    with pytest.raises(DuplicateNameError, match="already a block named 'a'"):
        g.add_node("ReLU", "a")
    with pytest.raises(GraphError, match="cannot be empty"):
        g.add_node("ReLU", "   ")


def test_cycle_is_refused_with_a_sentence():
    g = chain(("Conv2d", {}), ("ReLU", {}))
    with pytest.raises(CycleError, match="would make a loop: conv1 already feeds relu1"):
        g.check_connect("relu1", "conv1")
    with pytest.raises(CycleError, match="cannot feed itself"):
        g.check_connect("relu1", "relu1")
    g.validate()


def test_single_input_port_taken_is_refused():
    g = chain(("Conv2d", {}))
    g.add_node("Input", "other", {"shape": [3, 32, 32]})
    with pytest.raises(PortTakenError, match="conv1 already has an input from input; disconnect it first"):
        g.connect("other", "conv1")


def test_input_takes_no_inputs():
    g = chain(("ReLU", {}))
    with pytest.raises(ArityError, match="Input block and takes no inputs"):
        g.connect("relu1", "input")


def test_rank_mismatch_names_the_fix():
    g = chain(("Conv2d", {}))
    g.add_node("BatchNorm1d", "bn")
    message = "BatchNorm1d needs a flat or a T×D input, but conv1 gives 64×30×30: use BatchNorm2d on images"
    with pytest.raises(RankMismatchError, match=message):
        g.check_connect("conv1", "bn")


def test_a_linear_after_a_feature_map_says_to_insert_flatten():
    # The connection is allowed (an H×W×C map after a Permute has three axes too); the block says why not.
    g = chain(("Conv2d", {}))
    g.add_node("Linear", "fc")
    g.connect("conv1", "fc")
    assert g.result("fc").error == ("Linear needs a flat input, got 64×30×30: insert Flatten (to use all "
                                    "57,600 values), or turn on channels_last if it is H×W×C (after a Permute)")
    assert g.result("fc").error_param == "channels_last"
    g.set_params("fc", {"channels_last": True})
    assert g.result("fc").shape == (64, 30, 10)


def test_merges_take_any_number_of_inputs_in_port_order():
    g = chain(("Conv2d", {"out_channels": 8}))
    g.add_node("Conv2d", "b", {"out_channels": 4})
    g.connect("input", "b")
    g.add_node("Concat", "cat")
    g.connect("b", "cat")
    g.connect("conv1", "cat")
    assert g.sources("cat") == ("b", "conv1")
    assert g.result("cat").shape == (12, 30, 30)
    assert g.result("cat").formula == "12 = 4 + 8"
    g.validate()


def test_an_error_shows_on_its_node_and_downstream_is_unknown():
    g = chain(("Conv2d", {"kernel_size": 3}), ("ReLU", {}), ("MaxPool2d", {}))
    g.set_params("conv1", {"kernel_size": 40})
    conv = g.result("conv1")
    assert conv.status == "error"
    assert conv.error == "kernel 40 is larger than the padded input 32; reduce kernel_size or add padding ≥ 4"
    assert conv.error_param == "kernel_size"
    assert g.result("relu1").status == "unknown"
    assert g.result("pool1").shape_text == "unknown"
    assert g.errors() == [("conv1", conv.error)]
    g.set_params("conv1", {"kernel_size": 3})
    assert g.result("pool1").shape == (64, 15, 15)
    g.validate()


def test_unconnected_input_and_missing_input_block_are_reported():
    g = Graph()
    g.add_node("Conv2d", "lonely")
    assert g.result("lonely").error == "no input connected: connect a block to it"
    assert (None, "the graph has no Input block") in g.errors()
    g.add_node("Add", "sum")
    assert g.result("sum").error == "Add needs at least 2 inputs, has 0"


def test_groups_must_divide_channels():
    g = chain(("Conv2d", {"out_channels": 96, "kernel_size": 11, "stride": 4}),
              ("Conv2d", {"out_channels": 10, "groups": 5}))
    assert g.result("conv2").error == "in_channels 96 is not divisible by groups 5"


def test_invalid_param_changes_nothing():
    g = chain(("Conv2d", {"kernel_size": 3}))
    with pytest.raises(ParamError, match="kernel_size: must be between 1 and 4096, got 0"):
        g.set_params("conv1", {"kernel_size": 0, "out_channels": 7})
    assert g.node("conv1").params["out_channels"] == 64
    with pytest.raises(ParamError, match="Conv2d has no parameter 'kernel'"):
        g.set_params("conv1", {"kernel": 3})


def test_events_are_emitted_in_order():
    g = chain(("Conv2d", {}))
    rec = Recorder(g)
    node = g.add_node("ReLU", "r")
    g.connect("conv1", "r")
    g.set_params("conv1", {"out_channels": 5})
    g.move("r", (10, 20))
    g.rename("r", "act")
    g.remove_node("act")
    assert rec.names() == [
        "node_added", "shapes_changed",
        "edge_added", "shapes_changed",
        "params_changed", "shapes_changed",
        "node_moved",
        "node_renamed",
        "edge_removed",  # no shapes_changed: the only changed shape is the removed node's
        "node_removed",
    ]
    assert rec.seen[0][1] == (node,)
    assert rec.seen[4][1] == (g.node("conv1"), ["out_channels"])
    g.validate()


def test_an_edit_recomputes_only_what_changes():
    g = chain(("Conv2d", {}), ("ReLU", {}), ("Dropout", {}), ("Conv2d", {}), ("ReLU", {}))
    changed = []
    g.events.shapes_changed.connect(changed.append)
    g.set_params("dropout1", {"p": 0.2})
    assert changed[-1] == {"dropout1"}  # the shape did not change: nothing downstream ran
    g.set_params("conv1", {"out_channels": 3})
    assert changed[-1] == {"conv1", "relu1", "dropout1"}  # conv2's output shape is unchanged
    g.set_params("conv1", {"stride": 2})
    assert changed[-1] == {"conv1", "relu1", "dropout1", "conv2", "relu2"}
    g.validate()


def test_rename_keeps_edges_and_shapes():
    g = chain(("Conv2d", {}), ("ReLU", {}))
    g.rename("conv1", "features")
    assert g.sources("relu1") == ("features",)
    assert g.result("features").shape == (64, 30, 30)
    assert list(g.nodes) == ["input", "features", "relu1"]
    with pytest.raises(DuplicateNameError):
        g.rename("features", "relu1")
    g.validate()


def test_remove_node_removes_its_edges():
    g = chain(("Conv2d", {}), ("ReLU", {}))
    g.remove_node("conv1")
    assert g.edges == []
    assert g.result("relu1").status == "error"
    g.validate()


def test_flatten_and_linear_formulas():
    g = chain(("Conv2d", {"out_channels": 256, "kernel_size": 27}), ("Flatten", {}),
              ("Linear", {"out_features": 7}))
    assert g.result("conv1").shape == (256, 6, 6)
    assert g.result("flatten1").formula == "9216 = 256·6·6"
    assert g.result("fc1").param_count == 9216 * 7 + 7


def test_asymmetric_conv_shows_both_axes():
    g = Graph()
    g.add_node("Input", "x", {"shape": [1, 28, 20]})
    g.add_node("Conv2d", "c", {"kernel_size": [5, 3], "stride": [1, 2]})
    g.connect("x", "c")
    assert g.result("c").shape == (64, 24, 9)
    assert g.result("c").formula == "H: 24 = ⌊(28 − 5 + 2·0) / 1⌋ + 1; W: 9 = ⌊(20 − 3 + 2·0) / 2⌋ + 1"


def test_pool_ceil_mode_formula():
    g = chain(("MaxPool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}))
    g.set_params("input", {"shape": [3, 56, 56]})
    assert g.result("pool1").shape == (3, 28, 28)
    assert g.result("pool1").formula == "28 = ⌈(56 − 3) / 2⌉ + 1"


def test_a_tiny_registry_is_enough_for_a_graph():
    from designer.graph.blocks.io import INPUT
    from designer.graph.errors import UnknownBlockError
    from designer.graph.registry import Registry
    from designer.graph.spec import BlockSpec

    double = BlockSpec(type="Double", category="Shape", help="Doubles the channels.", params=(),
                       shape=lambda inputs, p: (inputs[0][0] * 2, *inputs[0][1:]))
    g = Graph(Registry([INPUT, double]))
    g.add_node("Input", "x", {"shape": [3, 4, 4]})
    g.add_node("Double", "d")
    g.connect("x", "d")
    assert g.result("d").shape == (6, 4, 4)
    with pytest.raises(UnknownBlockError, match="unknown block type 'Conv2d'"):
        g.add_node("Conv2d")
    g.validate()


@given(st.lists(st.tuples(st.sampled_from(["add", "connect", "disconnect", "remove", "rename"]),
                          st.integers(0, 10**6), st.integers(0, 10**6)), max_size=60))
@settings(max_examples=150, deadline=None)
def test_random_edits_keep_order_sources_and_shapes_consistent(edits):
    # validate() compares the incrementally kept topological order, sources and
    # shapes with ones computed from scratch after every edit.
    g = Graph()
    g.add_node("Input", "in", {"shape": [4, 16, 16]})
    renames = 0
    for op, a, b in edits:
        names = list(g.nodes)
        if op == "add":
            g.add_node(["ReLU", "Add", "Concat", "Conv2d"][a % 4])
        elif op == "connect":
            source, target = names[a % len(names)], names[b % len(names)]
            with contextlib.suppress(ConnectError):
                g.connect(source, target)
        elif op == "disconnect" and g.edges:
            g.disconnect(g.edges[a % len(g.edges)])
        elif op == "remove" and len(names) > 1:
            g.remove_node(names[1 + a % (len(names) - 1)])
        elif op == "rename":
            renames += 1
            g.rename(names[a % len(names)], f"renamed{renames}")
        g.validate()


def test_registry_membership_is_a_plain_question():
    g = Graph()
    assert "Conv2d" in g.registry and "Conv3d" not in g.registry and 42 not in g.registry


def test_check_rename_refuses_what_rename_would():
    g = chain(("ReLU", {}))
    g.check_rename("relu1", "act")  # fine
    with pytest.raises(DuplicateNameError):
        g.check_rename("relu1", "input")
    with pytest.raises(GraphError, match="cannot be empty"):
        g.check_rename("relu1", "  ")
    assert "relu1" in g
