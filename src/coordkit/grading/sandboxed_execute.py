"""The grader side of the sandbox (layer 3 of coordkit.grading.sandbox): nbgrader's Execute starting
its kernel confined by coordkit.grading.sandbox, with the per-cell timeout, a wall-clock budget for
the notebook, a cap on the output kept per cell, and a check that the guard is active before the
first cell. Used by `coordkit grade --engine kernel` (the previous engine); the default engine runs
no trainee code at all. Kept apart from coordkit.grading.sandbox so that the confined kernel imports
only the kernel side.

Interfaces of jupyter_client and nbclient: the grader side uses their public ones (the kernel
manager's format_kernel_cmd and start_kernel(**Popen options), the client's wait_for_ready and
is_alive, nbclient's create_kernel_manager, async_start_new_kernel(_client), async_execute_cell,
output, the timeout trait), except two private methods, both only to drop a fixed wait, for which no
public setting exists: jupyter_client's KernelClient._handle_kernel_info_reply (called as
jupyter_client's own wait_for_ready calls it, after the kernel_info reply that our faster
wait_for_ready receives) and KernelManager._async_wait(pollinterval) (the shutdown wait, polled in
5 ms steps instead of 100 ms). tests/unit/test_sandbox_policy.py checks that both exist with these
signatures in the pinned jupyter_client; if one disappears, delete the override that uses it (the
grading is slower by those waits, and otherwise the same).
"""

from __future__ import annotations

import json
import os

from .sandbox import KERNEL_LOG, POLICY_ARG, REFUSED_ENV, REPORT, STATUS_ENV, Limits, Policy


def execute_preprocessor():
    """nbgrader's Execute preprocessor, starting its kernel in the sandbox (class built on demand,
    so that importing this module in the kernel stays light)."""
    import ast
    import time

    from queue import Empty

    import zmq
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import ensure_async, run_sync
    from nbgrader.preprocessors import Execute
    from nbformat.v4 import new_output
    from traitlets import Dict, Int, List, Unicode

    class SandboxUnavailable(RuntimeError):
        """The kernel could not be confined: nothing of the submission was run."""

    class NotebookTimeLimit(RuntimeError):
        """The notebook ran over its wall-clock budget."""

    class QuickClient(AsyncKernelClient):
        async def wait_for_ready(self, timeout=None):
            """jupyter_client's wait, without its final 0.2 s of listening for stray startup output
            (nbclient only reads the output of its own requests)."""
            deadline = time.monotonic() + (timeout or 60)
            while True:
                self.kernel_info()
                try:
                    msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
                except Empty:
                    msg = None
                if msg and msg["msg_type"] == "kernel_info_reply":
                    try:
                        await ensure_async(self.iopub_channel.get_msg(timeout=0.2))   # IOPub connected
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)      # private: see the module docstring
                        return
                if not await ensure_async(self.is_alive()):
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    class SandboxedKernelManager(AsyncKernelManager):
        """Starts the kernel through coordkit.grading.sandbox; waits in 5 ms steps, not 100 ms."""

        policy = Unicode("").tag(config=False)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.client_factory = QuickClient
            self.context.setsockopt(zmq.RECONNECT_IVL, 10)       # connect as soon as the kernel listens

        async def _async_wait(self, pollinterval: float = 0.1) -> None:     # private: see the module docstring
            await super()._async_wait(pollinterval=0.005)

        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            for i in range(1, len(cmd) - 1):
                if cmd[i] == "-m" and cmd[i + 1] == "ipykernel_launcher":
                    # -I: isolated mode, neither the working folder nor PYTHON* variables decide
                    # what the launcher imports
                    return cmd[:i] + ["-I", "-m", "coordkit.grading.sandbox", POLICY_ARG + self.policy] + cmd[i + 2:]
            raise SandboxUnavailable(f"kernel command {cmd!r} is not ipykernel; it cannot be sandboxed")

    class SandboxedExecute(Execute):
        """nbgrader's Execute with the kernel confined by coordkit.grading.sandbox (see its docstring)."""

        home = Unicode("", help="private HOME of the kernel").tag(config=True)
        deny = List(Unicode(), help="folders the kernel may never read").tag(config=True)
        limits = Dict(help="coordkit.grading.sandbox.Limits as a dict").tag(config=True)
        sandbox_status = Dict()
        _budget = Int(0)

        def __init__(self, *args, **kwargs):
            kwargs["kernel_manager_class"] = SandboxedKernelManager
            kwargs.setdefault("shutdown_kernel", "immediate")    # the outputs are in; nothing to save
            super().__init__(*args, **kwargs)

        def _limits(self) -> Limits:
            return Limits(**self.limits)

        def create_kernel_manager(self):
            km = super().create_kernel_manager()
            workdir = os.path.realpath(self.resources.get("metadata", {}).get("path") or os.getcwd())
            km.policy = Policy(workdir=workdir, home=self.home, deny=tuple(self.deny),
                               limits=self._limits()).encode()
            return km

        async def async_start_new_kernel_client(self):
            """Start the client; a kernel that dies before it is ready (before any of the
            submission ran: e.g. two workers' kernels picked the same free port) is started again."""
            for attempt in range(3):
                try:
                    return await super().async_start_new_kernel_client()
                except RuntimeError:
                    if attempt == 2:
                        raise
                    self.log.warning("The kernel stopped before it was ready; starting it again")
                    self.km = self.create_kernel_manager()
                    await self.async_start_new_kernel()

        start_new_kernel_client = run_sync(async_start_new_kernel_client)

        async def async_start_new_kernel(self, **kwargs):
            """The kernel's own output goes to kernel.log next to its HOME (why it died, if it did)."""
            with open(os.path.join(os.path.dirname(os.path.realpath(self.home)), KERNEL_LOG), "ab") as log:
                await super().async_start_new_kernel(**{"stdout": log, "stderr": log, **kwargs})

        start_new_kernel = run_sync(async_start_new_kernel)

        def preprocess(self, nb, resources=None, km=None):
            limits = self._limits()
            if limits.cell_timeout:                # else the course's Execute.timeout (nbgrader_config.py)
                self.timeout = limits.cell_timeout
            self._deadline = time.monotonic() + limits.notebook_seconds
            self._kept = {}
            self._checked = False
            return super().preprocess(nb, resources, km)

        async def _ask(self, name: str):
            """A JSON value from the kernel's environment, read without running a cell."""
            msg_id = await ensure_async(self.kc.execute(
                "", silent=True, store_history=False,
                user_expressions={"v": f"__import__('os').environ.get({name!r}, 'null')"}))
            reply = await self.async_wait_for_reply(msg_id)
            try:
                return json.loads(ast.literal_eval(reply["content"]["user_expressions"]["v"]["data"]["text/plain"]))
            except Exception:  # noqa: BLE001 - no reply, or not what the guard writes
                return None

        async def _check_guard(self):
            status = await self._ask(STATUS_ENV)
            if not isinstance(status, dict):
                raise SandboxUnavailable("the kernel did not report an active guard")
            if not status.get("audit_hook"):
                raise SandboxUnavailable("the kernel's guard is not active")
            self.sandbox_status = status
            self.resources.setdefault("coordkit", {})["sandbox"] = status

        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            if not self._checked:
                await self._check_guard()
                self._checked = True
            if cell.cell_type == "code" and time.monotonic() > self._deadline:
                raise NotebookTimeLimit(
                    f"the notebook ran over its time budget of {self._limits().notebook_seconds} s")
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

        execute_cell = run_sync(async_execute_cell)

        def preprocess_cell(self, cell, resources, index):
            out = super().preprocess_cell(cell, resources, index)
            if index == len(self.nb.cells) - 1 and self._checked:   # the kernel still runs: keep what was refused
                refused = run_sync(self._ask)(REFUSED_ENV)
                report = os.path.join(os.path.dirname(os.path.realpath(self.home)), REPORT)
                with open(report, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"status": self.sandbox_status, "refused": refused or []},
                                        ensure_ascii=False) + "\n")
            return out

        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            if out is None or out.get("output_type") == "error":
                return out
            size = len(json.dumps(out.get("text", out.get("data", "")), ensure_ascii=False))
            kept = self._kept.get(cell_index, 0) + size
            self._kept[cell_index] = kept
            cap = self._limits().output_bytes
            if kept > cap:
                if outs and outs[-1] is out:
                    outs.pop()
                if kept - size <= cap:
                    outs.append(new_output("stream", name="stdout", text=(
                        f"\n[coordkit: output over {cap // 1024} KiB; the rest of this cell's output "
                        "was not kept]\n")))
                return None
            return out

    SandboxedExecute.SandboxUnavailable = SandboxUnavailable
    SandboxedExecute.NotebookTimeLimit = NotebookTimeLimit
    return SandboxedExecute
