"""Images sized to the network's input, augmented, normalised, and batched for one or many processes.

Augmentation fits the input size: up to 64 pixels a side, a random crop of the padded image and a
horizontal flip (He et al. 2016, Sec. 4.2); larger, a random-resized crop and a flip (Szegedy et al.
2015, Sec. 6, as torchvision implements it), and for validation a resize to 256/224 of the side and
a centre crop.

Each training sample's augmentation is drawn from its own generator, seeded by (seed, epoch,
index): a sample looks the same whichever process or worker loads it, so a run on N processes sees
the same batches as one process with the same global batch, and a resumed run the same as an
uninterrupted one.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from torchvision.transforms.v2 import functional as F

from ..diagnostics import CnnDslError
from .datasets import (
    IMAGENET_GREY_MEAN,
    IMAGENET_GREY_STD,
    IMAGENET_MEAN,
    IMAGENET_STD,
    Source,
    Split,
)

SMALL = 64  # input sides up to this get pad-and-crop; larger ones random-resized crops
PRESIZE_BYTES = 256 << 20  # in-memory splits resized once, up front, when the result is this small


class Images(Dataset):
    """One split of a `Source`, as float tensors of the network's input shape."""

    def __init__(self, source: Source, split: Split, shape: tuple[int, int, int], *, train: bool,
                 flip: bool = False, seed: int = 0, stats: tuple[torch.Tensor, torch.Tensor] | None = None) -> None:
        """`stats`: the training split's normalisation (`.stats` of its `Images`), for validation."""
        self.source, self.split, self.shape = source, split, shape
        self.train, self.flip, self.seed = train, flip, seed
        self.epoch = 0
        channels = shape[0]
        if source.kind != "folder" and channels not in (1, 3):
            raise CnnDslError.from_message(f"the network takes {channels} input channels; {source.name} "
                                           f"has {source.channels}, and only 1 <-> 3 can be converted")
        self.array = None if split.array is None else self._presize(torch.from_numpy(split.array))
        self.stats = stats or self._statistics()
        self.small = max(shape[1:]) <= SMALL
        self.pad = source.padding(max(shape[1:]))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self._read(index)
        if self.train:
            image = self._augment(image, np.random.default_rng([self.seed, self.epoch, index]))
        else:
            image = self._fit(image)
        if image.dtype == torch.uint8:
            image = image.float() / 255
        return (image - self.stats[0]) / self.stats[1], int(self.split.labels[index])

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, int]]:
        """A batch at once (the DataLoader asks for one): for in-memory images already at the input
        size, one padded copy and one gather instead of a dozen small ops per image, with the same
        draws from the same per-sample generators as `__getitem__`, so the same tensors."""
        if self.array is None or not self.small or tuple(self.array.shape[2:]) != tuple(self.shape[1:]):
            return [self[i] for i in indices]
        batch = self.array[indices]
        if self.train:
            batch = self._augment_batch(batch, [np.random.default_rng([self.seed, self.epoch, i]) for i in indices])
        if batch.dtype == torch.uint8:
            batch = batch.float() / 255
        batch = (batch - self.stats[0]) / self.stats[1]
        return list(zip(batch, self.split.labels[indices].tolist()))

    def _augment_batch(self, batch: torch.Tensor, rngs: list[np.random.Generator]) -> torch.Tensor:
        n, c, h, w = batch.shape
        p = self.pad
        offsets = torch.zeros(n, 2, dtype=torch.long)
        flips = torch.zeros(n, dtype=torch.bool)
        for k, rng in enumerate(rngs):  # the order of draws of `_augment`
            if p:
                offsets[k] = torch.from_numpy(rng.integers(0, 2 * p + 1, 2))
            flips[k] = self.flip and rng.random() < 0.5
        if p:
            rows = (offsets[:, 0, None] + torch.arange(h))[:, None, :, None]
            cols = (offsets[:, 1, None] + torch.arange(w))[:, None, None, :]
            batch = F.pad(batch, [p] * 4)[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None],
                                          rows, cols]
        return torch.where(flips[:, None, None, None], batch.flip(-1), batch)

    def _presize(self, array: torch.Tensor) -> torch.Tensor:
        """Convert channels once; resize once too when the resized split is small (digits)."""
        array = _channels(array, self.shape[0])
        side = tuple(self.shape[1:])
        if tuple(array.shape[2:]) != side and len(array) * math.prod(self.shape) * 4 <= PRESIZE_BYTES:
            array = F.resize(array.float() / (255 if array.dtype == torch.uint8 else 1), list(side), antialias=True)
        return array

    def _statistics(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation per channel of what the network receives: of the resized
        split when it was resized up front (resizing smooths), else the source's."""
        if self.array is not None and self.array.is_floating_point():
            mean, std = self.array.mean(dim=(0, 2, 3)), self.array.std(dim=(0, 2, 3))
        else:
            mean, std = (torch.tensor(v, dtype=torch.float32) for v in _statistics(self.source, self.shape[0]))
        return mean[:, None, None], std[:, None, None]

    def _read(self, index: int) -> torch.Tensor:
        if self.array is not None:
            return self.array[index]
        path = self.split.paths[index]
        try:
            with Image.open(path) as img:
                return F.pil_to_tensor(img.convert("L" if self.shape[0] == 1 else "RGB"))
        except OSError as exc:
            raise CnnDslError.from_message(f"{path}: not a readable image ({exc})") from None

    def _fit(self, image: torch.Tensor) -> torch.Tensor:
        """Validation: the whole image at the input size (small), or resize and centre crop."""
        side = list(self.shape[1:])
        if list(image.shape[1:]) == side:
            return image
        if self.small:
            return F.resize(image, side, antialias=True)
        image = F.resize(image, [round(s * 256 / 224) for s in side], antialias=True)
        return F.center_crop(image, side)

    def _augment(self, image: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        h, w = self.shape[1:]
        if self.small:
            image = self._fit(image)
            if self.pad:
                top, left = rng.integers(0, 2 * self.pad + 1, 2)
                image = F.pad(image, [self.pad] * 4)[:, top:top + h, left:left + w]
        else:
            top, left, ch, cw = resized_crop_box(image.shape[1], image.shape[2], rng)
            image = F.resized_crop(image, top, left, ch, cw, [h, w], antialias=True)
        if self.flip and rng.random() < 0.5:
            image = image.flip(-1)
        return image


def resized_crop_box(height: int, width: int, rng: np.random.Generator,
                     scale: tuple[float, float] = (0.08, 1.0),
                     ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop.get_params, drawing from `rng` instead of torch's global
    generator: 8%-100% of the area, aspect ratio 3/4-4/3 (log-uniform), ten tries, then the centre."""
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = round(math.sqrt(target * aspect))
        h = round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
    in_ratio = width / height
    if in_ratio < ratio[0]:
        w, h = width, round(width / ratio[0])
    elif in_ratio > ratio[1]:
        h, w = height, round(height * ratio[1])
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def _channels(array: torch.Tensor, channels: int) -> torch.Tensor:
    if array.shape[1] == channels:
        return array
    if channels == 3:
        return array.expand(-1, 3, -1, -1).contiguous()
    return F.rgb_to_grayscale(array)


def _statistics(source: Source, channels: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Normalisation per channel of what the network receives."""
    if source.kind == "folder":
        return (IMAGENET_MEAN, IMAGENET_STD) if channels == 3 else (IMAGENET_GREY_MEAN, IMAGENET_GREY_STD)
    if len(source.mean) == channels:
        return source.mean, source.std
    if channels == 3:  # one channel repeated
        return source.mean * 3, source.std * 3
    weights = (0.299, 0.587, 0.114)  # the luminance rgb_to_grayscale computes
    return ((sum(w * m for w, m in zip(weights, source.mean)),),
            (sum(w * s for w, s in zip(weights, source.std)),))


def train_loader(data: Images, batch_size: int, *, rank: int, world_size: int, seed: int,
                 workers: int, pin: bool) -> DataLoader:
    """Each process takes every world_size-th index of one shuffled order (torch's DistributedSampler,
    also with one process), so the processes' batches together are the one-process batch. The last
    partial batch is dropped: uneven batches would weigh samples differently across processes."""
    sampler: DistributedSampler[int] = DistributedSampler(data, num_replicas=world_size, rank=rank, shuffle=True,
                                                          seed=seed, drop_last=True)
    return DataLoader(data, batch_size=batch_size // world_size, sampler=sampler, drop_last=True,
                      num_workers=workers, pin_memory=pin)


def val_loader(data: Images, batch_size: int, *, rank: int, world_size: int, workers: int, pin: bool) -> DataLoader:
    """Every process scores a disjoint share of the validation set (no padding, no duplicates)."""
    return DataLoader(data, batch_size=batch_size, sampler=list(range(rank, len(data), world_size)),
                      num_workers=workers, pin_memory=pin)
