"""The dataset layer of the training engine: sources, checks, splits and batches. No Qt.

Typical use::

    from designer.data import DatasetConfig, prepare, batches, check_fits

    config = DatasetConfig.from_json({"name": "shapes", "samples": 5000, "seed": 0})
    data = prepare(config, input_shape=(3, 32, 32), device="cpu", output_shape=(10,))
    generator = torch.Generator().manual_seed(config.seed)
    for epoch in range(epochs):
        for x, y in batches(data.train, 128, shuffle=True, generator=generator, augment=data.augment):
            ...  # x: float32 [128, 3, 32, 32], normalised; y: int64 [128]

Sources: ``digits`` (built in, the default), ``shapes`` (generated), ``cifar10``,
``cifar100``, ``mnist``, ``fashion_mnist``, ``folder`` (one sub-folder per class)
and ``npz`` (``x`` and ``y``). ``download_dataset`` fetches CIFAR and MNIST.
"""

from designer.data.batches import Split, batch_count, batches
from designer.data.config import SOURCES, Augment, DatasetConfig
from designer.data.download import CATALOG, download_dataset, download_file
from designer.data.errors import (
    ChecksumError,
    DataConfigError,
    DataError,
    DataFileError,
    DataFitError,
    DownloadError,
)
from designer.data.fit import DatasetInfo, check_fits
from designer.data.prepare import Prepared, prepare
from designer.data.transforms import Stats

__all__ = [
    "CATALOG",
    "SOURCES",
    "Augment",
    "ChecksumError",
    "DataConfigError",
    "DataError",
    "DataFileError",
    "DataFitError",
    "DatasetConfig",
    "DatasetInfo",
    "DownloadError",
    "Prepared",
    "Split",
    "Stats",
    "batch_count",
    "batches",
    "check_fits",
    "download_dataset",
    "download_file",
    "prepare",
]
