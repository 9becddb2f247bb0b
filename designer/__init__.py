"""Designer: draw, check, train and export convolutional neural networks.

Python API::

    import designer
    graph = designer.load("alexnet")      # a template name or a project file
    model = graph.to_torch()              # a torch.nn.Module
"""

from designer.graph import Graph, load

__version__ = "0.1.0"


class DesignerWarning(UserWarning):
    """Warnings Designer itself raises; the test suite turns them into errors."""


__all__ = ["DesignerWarning", "Graph", "__version__", "load"]
