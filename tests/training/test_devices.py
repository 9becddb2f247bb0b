"""Device choice and precision rules; on a machine without a GPU only the CPU paths run."""

from __future__ import annotations

import pytest
import torch

from designer.training import DeviceError, TrainingConfig, check_precision, describe_devices, pick_device
from designer.training.devices import to_device

HAS_CUDA = torch.cuda.is_available()


def test_the_cpu_is_always_listed_last():
    devices = describe_devices()
    assert devices[-1].name == "cpu" and devices[-1].kind == "cpu" and "CPU" in devices[-1].label
    assert [d.kind for d in devices if d.kind == "cuda"] == ["cuda"] * torch.cuda.device_count() * HAS_CUDA


def test_auto_prefers_a_gpu_and_falls_back_to_the_cpu():
    device = pick_device(TrainingConfig(device="auto"))
    assert device.type == ("cuda" if HAS_CUDA else device.type)
    assert pick_device(TrainingConfig(device="cpu")) == torch.device("cpu")


@pytest.mark.skipif(HAS_CUDA, reason="needs a machine without CUDA")
def test_a_missing_gpu_is_an_error_listing_the_devices_there_are():
    with pytest.raises(DeviceError, match=r"training\.device: cuda:1 is not available on this machine; "
                                          r"choose one of auto, .*cpu"):
        pick_device(TrainingConfig(device="cuda:1"))


@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
def test_cuda_precisions():
    device = pick_device(TrainingConfig(device="cuda"))
    fp16 = check_precision(TrainingConfig(precision="fp16"), device)
    assert fp16.autocast_dtype == torch.float16 and fp16.scales_loss and fp16.grad_scaler().is_enabled()


def test_fp16_on_the_cpu_is_an_error_naming_the_fix():
    with pytest.raises(DeviceError, match=r'training.precision: fp16 needs a GPU; on the CPU choose "bf16"'):
        check_precision(TrainingConfig(precision="fp16"), torch.device("cpu"))


def test_bf16_autocasts_on_the_cpu_without_loss_scaling():
    precision = check_precision(TrainingConfig(precision="bf16"), torch.device("cpu"))
    assert precision.autocast_dtype == torch.bfloat16 and not precision.scales_loss
    layer = torch.nn.Linear(4, 4)
    with precision.autocast():
        assert layer(torch.randn(2, 4)).dtype == torch.bfloat16
    assert not precision.grad_scaler().is_enabled()


def test_fp32_does_not_autocast():
    precision = check_precision(TrainingConfig(), torch.device("cpu"))
    with precision.autocast():
        assert torch.nn.Linear(4, 4)(torch.randn(2, 4)).dtype == torch.float32


def test_to_device_can_make_batches_channels_last():
    x = torch.randn(2, 3, 4, 4)
    moved = to_device(x, torch.device("cpu"), channels_last=True)
    assert moved.is_contiguous(memory_format=torch.channels_last) and torch.equal(moved, x)
    assert to_device(torch.arange(3), torch.device("cpu"), channels_last=True).shape == (3,)
