"""Ray Data plumbing shared by the jobs: a Ray session for one job, and an ordered, streaming,
cancellable map of a pure function over a list of payloads.

Nothing here imports Ray at module level (``core`` must import fast and without it).

How a map runs: every payload is pickled into one row (``{"i": index, "data": bytes}``) of
``ray.data.from_items``, one block per payload; ``map_batches`` applies the function to each
block in a Ray task; the driver iterates the results *in input order* (``preserve_order``), so
it stores batches in the same order as the local engine and gets the same candidate ids. The
pipeline streams: only a few blocks are in flight at once, and results arrive while later
blocks are still computing. Closing the iterator (cancel, Ctrl+C, an error) stops it.

Failures: a task whose worker process or node dies is retried by Ray Data (its default for
map tasks; the functions mapped here are idempotent: same input, same output, content-addressed
blobs, so a retry is safe). An exception raised by the function itself is deterministic (it
would fail again), so it is reported at once: the driver gets an
:class:`~genaug_desktop.core.engine.EngineError` naming it, and every batch stored before it
stays stored. (The jobs' functions already turn a bad item into a per-item failure row, so an
exception here means something systemic, such as an unwritable blobs folder.)
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from genaug_desktop.core.engine import Engine, EngineError, require
from genaug_desktop.core.jobs import CancelToken, Cancelled

#: the message of a cancel while Ray was starting
START_CANCELLED = "cancelled while Ray was starting; the Ray this job had started is shut down"

_QUIET_LOGGERS = ("ray", "ray.data", "ray._private", "ray.train", "ray.tune")


def _quiet_ray_logs() -> None:
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


#: Whether a local Ray started by a job stays up for the next job (see :func:`keep_local_ray`).
_keep_local = False
#: Whether the Ray running now was started here, by a job, and kept.
_kept = False


def keep_local_ray(keep: bool = True) -> None:
    """Keep the local Ray a job starts running for the jobs after it, until :func:`stop_local_ray`.

    The window sets this: starting Ray takes 10-15 s on 2 cores, once a session instead of once
    per augmentation, filter and export. The command line keeps the default (one job, then stop).
    """
    global _keep_local
    _keep_local = keep


def stop_local_ray() -> None:
    """Shut down the local Ray kept by :func:`keep_local_ray` (nothing when there is none)."""
    global _kept
    if _kept:
        import ray

        ray.shutdown()
        _kept = False


class RaySession:
    """Ray for the length of one job.

    With ``engine.address`` (or the ``RAY_ADDRESS`` environment variable, Ray's own convention,
    which is how the window joins a cluster) it joins that cluster. Otherwise, when this process has no Ray yet,
    it starts a local one with ``num_cpus = engine.workers`` (default: every core), no
    dashboard, usage statistics off, quiet logs, and shuts it down at the end. A Ray this
    process had already started (a notebook, tests) is used as it is and left running.

    Cancel while starting (``ray.init``, 10-15 s on a small machine): ``ray.init`` cannot be
    interrupted half-way without leaving Ray's processes behind or the process wedged (run in
    a helper thread instead, its shutdown hung now and then), so a cancel, or a Ctrl+C (held
    back while ``ray.init`` runs in the main thread), takes effect the moment it returns: the
    Ray it started is shut down and ``Cancelled`` (``KeyboardInterrupt`` for Ctrl+C) is raised
    with :data:`START_CANCELLED` as its message, before any work is sent. A second Ctrl+C
    quits at once.
    """

    def __init__(self, engine: Engine, cancel: CancelToken | None = None) -> None:
        """*cancel*: the job's token, checked as soon as Ray has started."""
        self.engine = engine
        self.cancel = cancel or CancelToken()
        self.owned = False

    def __enter__(self) -> RaySession:
        require(self.engine)
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no phoning home
        self.cancel.raise_if_cancelled()
        import ray

        _quiet_ray_logs()
        if ray.is_initialized():
            return self
        kwargs: dict[str, Any] = dict(
            include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR, configure_logging=True,
        )
        address = self.engine.address or os.environ.get("RAY_ADDRESS") or None
        if address:
            kwargs["address"] = address
        else:
            kwargs["num_cpus"] = max(1, self.engine.workers or os.cpu_count() or 1)
        interrupted: list[bool] = []
        restore = _defer_sigint(interrupted)
        try:
            ray.init(**kwargs)
        except KeyboardInterrupt:  # a second Ctrl+C: at once (Ray's atexit hook stops what it started)
            raise
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError... from ray.init
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            raise EngineError(f"cannot start {where}: {_short(exc)}") from None
        finally:
            if restore is not None:
                signal.signal(signal.SIGINT, restore)
        if interrupted or self.cancel.cancelled:
            ray.shutdown()  # even when the window keeps its Ray: this one was never used
            if interrupted:
                raise KeyboardInterrupt(START_CANCELLED)
            raise Cancelled(START_CANCELLED)
        self.owned = True
        _quiet_ray_logs()
        return self

    def __exit__(self, *exc: object) -> None:
        global _kept
        if self.owned:
            self.owned = False
            if _keep_local and not (self.engine.address or os.environ.get("RAY_ADDRESS")):
                _kept = True  # stopped by stop_local_ray()
                return
            import ray

            ray.shutdown()

    @staticmethod
    def cpus() -> int:
        """The CPUs the Ray cluster offers (1 when unknown)."""
        import ray

        return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _defer_sigint(interrupted: list[bool]) -> Any:
    """In the main thread, hold back the first Ctrl+C (noted in *interrupted*) until
    ``ray.init`` returns; the second one raises at once. Returns the handler to restore, or
    None elsewhere (a job thread: the window cancels with the token)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def on_sigint(_signum: int, _frame: object) -> None:
        if interrupted:
            raise KeyboardInterrupt
        interrupted.append(True)

    try:
        return signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main interpreter
        return None


def _short(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _task_error(exc: BaseException) -> str:
    """The user-facing cause of a failed Ray task (Ray wraps it in its own exceptions)."""
    cause: BaseException | None = exc
    seen = 0
    while cause is not None and seen < 5:
        inner = getattr(cause, "cause", None) or cause.__cause__
        if inner is None or inner is cause:
            break
        cause, seen = inner, seen + 1
    assert cause is not None
    return f"{type(cause).__name__}: {_short(cause)}"


class TaskFailed:
    """What a task returns instead of a result when *fn* raised (Ray would keep only a long
    wrapped message); the driver turns it into an :class:`EngineError` in its turn."""

    __slots__ = ("error",)

    def __init__(self, error: str) -> None:
        self.error = error


def _call(fn: Callable[..., Any], data: bytes, kwargs: dict[str, Any]) -> bytes:
    try:
        result = fn(pickle.loads(data), **kwargs)
    except Exception as exc:
        result = TaskFailed(f"{type(exc).__name__}: {_short(exc)}")
    return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)


def _apply(batch: dict[str, Any], fn: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Ray Data UDF: unpickle each payload of the block, apply *fn*, pickle the result."""
    return {"i": batch["i"], "out": [_call(fn, data, kwargs) for data in batch["data"]]}


def ordered_map(
    fn: Callable[..., Any],
    payloads: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[tuple[int, Any]]:
    """``(index, fn(payloads[index], **kwargs))`` for every payload, in order, computed by Ray
    Data tasks. *fn* must be importable (a module-level function) and pure; *kwargs* are sent
    with every task, so keep them small (``ray.put`` big shared state and pass the reference).

    Raises ``Cancelled`` between results when *cancel* is set, and
    :class:`~genaug_desktop.core.engine.EngineError` when a task raised.
    A Ray session must be open (:class:`RaySession`).
    """
    cancel = cancel or CancelToken()
    if not payloads:
        return
    import ray.data

    _quiet_ray_logs()  # importing ray.data configures its loggers anew
    rows = [{"i": i, "data": pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL)} for i, p in enumerate(payloads)]
    ds = ray.data.from_items(rows, override_num_blocks=len(rows))
    ds.context.execution_options.preserve_order = True
    ds.context.enable_progress_bars = False
    ds.context.print_on_execution_start = False
    ds = ds.map_batches(
        _apply, batch_size=None, batch_format="numpy", fn_kwargs={"fn": fn, "kwargs": dict(kwargs or {})},
    )
    batches = ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=2)
    it = iter(batches)
    expected = 0
    try:
        while True:
            cancel.raise_if_cancelled()
            try:
                block = next(it)
            except StopIteration:
                break
            except (KeyboardInterrupt, GeneratorExit):
                raise
            except Exception as exc:
                raise EngineError(
                    f"a Ray task failed ({_task_error(exc)}); "
                    f"the {expected:,} batches finished before it were kept"
                ) from None
            for i, data in zip(block["i"], block["out"]):
                if int(i) != expected:  # preserve_order is what makes results match the local engine
                    raise EngineError(f"Ray returned batch {int(i)} where {expected} was expected")
                result = pickle.loads(data)
                if isinstance(result, TaskFailed):
                    raise EngineError(
                        f"a Ray task failed ({result.error}); the {expected:,} batches finished before it were kept"
                    )
                expected += 1
                yield int(i), result
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()
    if expected != len(payloads):
        raise EngineError(f"Ray returned {expected:,} of {len(payloads):,} batches")

