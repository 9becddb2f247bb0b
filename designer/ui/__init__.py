"""Qt views of the graph model. Everything here may import Qt; nothing below it does."""
