"""Peak memory of a benchmark arm, two ways: the process's RSS while it runs, and the peak of live tensors.

RSS is what the machine sees, but on a CPU it also counts what glibc's allocator freed and kept:
two runs of the same loop rose by 934 and 1,016 MB (experiments/arm_memory.py). The live-tensor peak is the CPU analogue of
CUDA's `max_memory_allocated`: the highest sum of tensor bytes the loop held at once, replayed
from the allocation and free events `torch.profiler` records with `profile_memory=True`. It does
not depend on the allocator, so arms compare on it (631 MB in both of those runs).
"""

from __future__ import annotations

import ctypes
import gc
import os
import threading
from collections.abc import Callable

import torch


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _release_freed_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc `malloc_trim`), so the RSS a
    block starts from holds no memory an earlier block freed but the allocator kept."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the rise may be understated by reused free pages
        pass


class PeakMemory:
    """Peak memory while the block runs: `max_memory_allocated` on CUDA, sampled process RSS on CPU.

    CPU RSS includes everything the process holds (Python, torch, the loaded models), so it grows
    with whatever ran before; `rise_mb` is the block's own share: the peak minus the RSS at its
    start, taken after freed memory is returned to the OS. On CUDA the rise is over the memory
    allocated at the start. `getrusage` cannot be reset per block, hence sampling.
    """

    def __init__(self, device: torch.device, interval: float = 0.01) -> None:
        self.device, self.interval = device, interval
        self.peak_mb = self.rise_mb = 0.0
        self._stop = threading.Event()
        self._peak = self._start = 0

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device)
        else:
            _release_freed_memory()
            self._peak = self._start = _rss_bytes()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._peak = max(self._peak, _rss_bytes())

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            self._peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            self._thread.join()
            self._peak = max(self._peak, _rss_bytes())
        self.peak_mb, self.rise_mb = self._peak / 2**20, (self._peak - self._start) / 2**20


def live_tensor_peak_mb(body: Callable[[], object], device: torch.device) -> float:
    """The most tensor memory `body()` held at once on `device`, above what was live when it started (MB).

    On CUDA that is `max_memory_allocated`; on a CPU, the running sum of the profiler's allocation
    and free events. The profiler slows `body` down: time it separately.
    """
    gc.collect()
    if device.type == "cuda":  # the allocator counts live tensors itself: PeakMemory's rise is the answer
        torch.cuda.synchronize(device)
        with PeakMemory(device) as memory:
            body()
            torch.cuda.synchronize(device)
        return memory.rise_mb
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        body()
    cpu = torch._C._autograd.DeviceType.CPU
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                    if e.name() == "[memory]" and e.device_type() == cpu)
    live = peak = 0
    for _, nbytes in events:  # an allocation adds its bytes, a free subtracts them
        live += nbytes
        peak = max(peak, live)
    return peak / 2**20
