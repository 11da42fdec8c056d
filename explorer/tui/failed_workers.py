"""The one place a screen's failed worker becomes something on screen.

What it is for: a screen's workers run with `exit_on_error=False` (an exception would otherwise end
the app); when one fails, its `Worker.StateChanged` message reaches the screen, and this mixin hands
the error to the screen's `<worker name>_failed(error)` method (the worker's name is its method's
name), or, for a worker without one, shows the error as a notification.
What it must never do: I/O, retry, or swallow a failure silently.
"""

from __future__ import annotations

from textual.worker import Worker, WorkerState

from explorer.core.display import failure_line


class ShowsFailedWorkers:
    """Mixin for a Screen whose workers run with exit_on_error=False."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        shown = getattr(self, f"{event.worker.name}_failed", None)
        if shown is not None:
            shown(error)
        else:
            self.notify(failure_line(error), severity="error")
