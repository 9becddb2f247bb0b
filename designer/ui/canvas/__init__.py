"""The node editor canvas: the scene mirroring a graph, its items, the view and its gestures."""
