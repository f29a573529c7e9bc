"""JAX's persistent compilation cache: compiled programs kept between processes."""

from __future__ import annotations

import os
from pathlib import Path

# Compiled XLA programs are kept between processes (JAX's persistent compilation cache),
# so a second training or prediction of the same shapes skips the compilation that takes
# most of a small run (the loans default: first epoch 8.2 s cold, 2.7 s warm). The folder
# is safe to delete; RNNKIT_COMPILATION_CACHE=off turns the cache off.
CACHE_VARIABLE = "RNNKIT_COMPILATION_CACHE"
CACHE_MAX_BYTES = 1 << 30  # least recently used programs are dropped past 1 GiB

_cache_enabled = False


def cache_dir() -> Path | None:
    """Where compiled programs are kept: ``$RNNKIT_COMPILATION_CACHE`` (a folder), else
    ``$XDG_CACHE_HOME/rnnkit/xla`` (``~/.cache/rnnkit/xla``); ``None`` when it is off."""
    setting = os.environ.get(CACHE_VARIABLE, "").strip()
    if setting.lower() in ("off", "0", "false", "no"):
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rnnkit" / "xla"


def enable_cache() -> None:
    """Turns on JAX's persistent compilation cache (once; other backends: nothing)."""
    global _cache_enabled
    import keras

    if _cache_enabled or keras.backend.backend() != "jax":
        return
    _cache_enabled = True
    directory = cache_dir()
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: compile every time, as without a cache
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_compilation_cache_max_size", CACHE_MAX_BYTES)
