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

from __future__ import annotations

from typing import TYPE_CHECKING

from designer.lazy import lazy_names

if TYPE_CHECKING:
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

# The names are loaded on first use (PEP 562), so that the editor can import the torch-free
# modules (config, fit, errors, download) without paying ~1.5 s for torch at startup.
_HOMES = {
    "Split": "batches", "batch_count": "batches", "batches": "batches",
    "SOURCES": "config", "Augment": "config", "DatasetConfig": "config",
    "CATALOG": "download", "download_dataset": "download", "download_file": "download",
    "ChecksumError": "errors", "DataConfigError": "errors", "DataError": "errors",
    "DataFileError": "errors", "DataFitError": "errors", "DownloadError": "errors",
    "DatasetInfo": "fit", "check_fits": "fit",
    "Prepared": "prepare", "prepare": "prepare",
    "Stats": "transforms",
}


__getattr__ = lazy_names(__name__, _HOMES)

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
