"""The error types of the graph model.

Every message is a sentence meant for the person drawing the network: it names
the node, the parameter and the numbers involved, and says what would fix it
when that is knowable.
"""

from __future__ import annotations


class GraphError(Exception):
    """Base of every error the graph model raises on purpose."""


class ParamError(GraphError, ValueError):
    """A parameter value is of the wrong type or out of range."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.reason = message


class ShapeError(GraphError):
    """A block cannot produce an output from the shapes it is given."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class UnknownBlockError(GraphError):
    """A block type name that the registry does not know."""


class NodeNotFoundError(GraphError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class DuplicateNameError(GraphError):
    """Two nodes would share a name."""


class ConnectError(GraphError):
    """A connection the graph refuses; subclasses say why."""


class CycleError(ConnectError):
    pass


class PortTakenError(ConnectError):
    pass


class ArityError(ConnectError):
    """The target has no such input port, or the source has no output."""


class RankMismatchError(ConnectError):
    pass


class ProjectFileError(GraphError):
    """A project file that cannot be read; the message says what and where."""
