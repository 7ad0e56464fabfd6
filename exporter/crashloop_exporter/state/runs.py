"""Dead runs: what `crashloop_crashes_total` counts, so a crash is counted when the container dies.

The kubelet raises restartCount only when it *restarts* a container, after the back-off (10 s
doubling to 5 minutes). Its real order for one crash is:

    1. the run exits:        state.terminated = this run,   restartCount n,     lastState = run n-1
    2. back-off:             state.waiting CrashLoopBackOff, restartCount n,     lastState = this run
    3. restart:              state.running = run n+1,       restartCount n + 1, lastState = this run

(the first crash of a container has no back-off: 3 follows 1 at the next sync). Counting
restartCount would count the crash at 3, up to five minutes late. The number of the container's
runs that are over is known at 1 already, from the status alone:

    dead_runs = restartCount + (1 while the latest run has exited and not been replaced)

It is the same at 1, 2 and 3 for one death (n + 1), so the restart that follows a counted death
adds nothing; it only grows, so `new - old` is exact across watch gaps and relists, whichever of
the states a gap skips (a death seen only as lastState after a gap is n + 1 as well). A status
alone decides it: nothing remembered about earlier updates can go stale across a relist.

"Exited" is a run that is over and is a crash: any exit that restartPolicy restarts (a regular
container's exit 0 under `Always` is `clean_exit`), any failure, and every container of an evicted
pod's regular containers. A run that completed (exit 0 of an init container, or under
`OnFailure`/`Never`) is not, nor is an ephemeral (debug) container's exit.
"""

from __future__ import annotations

from crashloop_exporter.model import ContainerRecord, PodRecord

NOT_A_DEATH_WAITING = frozenset({"", "ContainerCreating", "PodInitializing"})
"""Waiting reasons with a lastState that do not say the latest run is dead: a new run that was
created but has not started yet (its restartCount is already n + 1)."""


def latest_run_dead(rec: PodRecord, c: ContainerRecord) -> bool:
    """The container's latest run has exited (as a crash) and no new run has replaced it yet."""
    if c.type == "ephemeral":
        return False  # a debug session, never restarted: its exit is not the workload's crash
    t = c.terminated
    if t is not None:
        if t.exit_code != 0:
            return True
        # Exit 0: an init container completed; a regular one is restarted (Always, on a pod that
        # is not over) or was killed by an eviction, else it completed (OnFailure, Never).
        return c.type == "regular" and (rec.restarts_clean_exits or rec.reason == "Evicted")
    # Waiting to be restarted: the kubelet moves the dead run to lastState and shows why it waits
    # (CrashLoopBackOff, or RunContainerError/ImagePullBackOff when the restart itself fails).
    return c.waiting is not None and c.last_terminated is not None and c.waiting.reason not in NOT_A_DEATH_WAITING


def dead_runs(rec: PodRecord, c: ContainerRecord) -> int:
    """How many of the container's runs have died: the number a crash count is a delta of."""
    return c.restart_count + (1 if latest_run_dead(rec, c) else 0)
