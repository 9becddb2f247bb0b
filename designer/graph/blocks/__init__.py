"""The block library: one :class:`~designer.graph.spec.BlockSpec` per block type."""
