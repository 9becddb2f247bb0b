"""Look-alikes of the ``torchvision.ops`` pieces the reference models are built from.

torchvision does not install here, so the reference models (issue 12) carry their own ``stochastic_depth``,
``StochasticDepth``, ``Conv2dNormActivation``, ``SqueezeExcitation``, ``Permute`` and ``MLP``, written from
their documented behaviour with torchvision's arguments, attribute names and forward idioms:

- ``stochastic_depth`` follows Huang et al. 2016, "Deep Networks with Stochastic Depth": in ``"row"`` mode one
  Bernoulli draw per sample, in ``"batch"`` mode one for the whole batch, kept with probability ``1 - p`` and
  scaled by ``1 / (1 - p)``; the identity when not training or when ``p == 0``.
- ``SqueezeExcitation`` follows Hu et al. 2017, "Squeeze-and-Excitation Networks": average pool, ``fc1``,
  activation, ``fc2``, gate activation, then ``scale * input``; its fully connected layers are 1×1 convolutions
  with bias, as in torchvision.

Each class and ``stochastic_depth`` report torchvision's module as their ``__module__``
(``torchvision.ops.misc``, ``torchvision.ops.stochastic_depth``), so an importer keyed on torchvision's
qualified names (``torchvision.ops.stochastic_depth.stochastic_depth``,
``torchvision.ops.misc.SqueezeExcitation``) sees these exactly as it would see torchvision's own. As in
torchvision, ``stochastic_depth`` is registered with ``torch.fx.wrap`` at module level, so symbolic tracing
records it as one ``call_function`` node instead of tracing into its random draw. The price of the borrowed
``__module__``: ``pickle`` and ``inspect.getsource`` cannot find these objects by name; nothing here needs
either.
"""

from collections.abc import Callable, Sequence

import torch
import torch.fx
from torch import Tensor, nn

_MISC = "torchvision.ops.misc"
_STOCHASTIC_DEPTH = "torchvision.ops.stochastic_depth"


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    """Zero whole residual branches at random: per sample (``"row"``) or for the batch (``"batch"``)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    size = [input.shape[0]] + [1] * (input.ndim - 1) if mode == "row" else [1] * input.ndim
    noise = torch.empty(size, dtype=input.dtype, device=input.device).bernoulli_(survival_rate)
    if survival_rate > 0.0:
        # Dividing by the survival rate keeps the expected value, so eval mode needs no rescaling.
        noise.div_(survival_rate)
    return input * noise


stochastic_depth.__module__ = _STOCHASTIC_DEPTH
torch.fx.wrap("stochastic_depth")


class StochasticDepth(nn.Module):
    """The module form of :func:`stochastic_depth`; it drops only in training mode."""

    __module__ = _STOCHASTIC_DEPTH

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input: Tensor) -> Tensor:
        return stochastic_depth(input, self.p, self.mode, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


class Conv2dNormActivation(nn.Sequential):
    """Conv2d, then an optional norm layer, then an optional activation, as one ``nn.Sequential``.

    Padding defaults to "same" for odd kernels; the convolution has a bias only when there is no norm layer.
    """

    __module__ = _MISC

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        groups: int = 1,
        norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
        activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
        dilation: int = 1,
        inplace: bool | None = True,
        bias: bool | None = None,
    ) -> None:
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                      dilation=dilation, groups=groups, bias=bias)
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels


class SqueezeExcitation(nn.Module):
    """Hu et al.'s squeeze-and-excitation gate: channels are scaled by a gate computed from their means."""

    __module__ = _MISC

    def __init__(
        self,
        input_channels: int,
        squeeze_channels: int,
        activation: Callable[..., nn.Module] = nn.ReLU,
        scale_activation: Callable[..., nn.Module] = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input: Tensor) -> Tensor:
        scale = self.avgpool(input)
        scale = self.fc1(scale)
        scale = self.activation(scale)
        scale = self.fc2(scale)
        return self.scale_activation(scale)

    def forward(self, input: Tensor) -> Tensor:
        scale = self._scale(input)
        return scale * input


class Permute(nn.Module):
    """``torch.permute`` as a module, for use inside ``nn.Sequential`` (ConvNeXt's channels-last block)."""

    __module__ = _MISC

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return torch.permute(x, self.dims)


class MLP(nn.Sequential):
    """Linear layers of the widths in ``hidden_channels``, each but the last followed by norm, activation and
    dropout; the last followed by dropout only."""

    __module__ = _MISC

    def __init__(
        self,
        in_channels: int,
        hidden_channels: Sequence[int],
        norm_layer: Callable[..., nn.Module] | None = None,
        activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
        inplace: bool | None = None,
        bias: bool = True,
        dropout: float = 0.0,
    ) -> None:
        params = {} if inplace is None else {"inplace": inplace}
        layers: list[nn.Module] = []
        in_dim = in_channels
        for hidden_dim in hidden_channels[:-1]:
            layers.append(nn.Linear(in_dim, hidden_dim, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden_dim))
            if activation_layer is not None:
                layers.append(activation_layer(**params))
            layers.append(nn.Dropout(dropout, **params))
            in_dim = hidden_dim
        layers.append(nn.Linear(in_dim, hidden_channels[-1], bias=bias))
        layers.append(nn.Dropout(dropout, **params))
        super().__init__(*layers)
