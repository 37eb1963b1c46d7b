"""The grader-side sandbox with a real kernel (coordkit.grading.sandboxed_execute.execute_preprocessor), on the public
jupyter_client and nbclient interfaces: the per-cell limit ends a runaway cell, the kernel's own output
lands in kernel.log, the guard is reported active."""

import nbformat
import pytest

from coordkit.grading.sandbox import KERNEL_LOG, Limits

pytestmark = pytest.mark.slow


def test_a_cell_over_its_time_limit_is_stopped_and_the_kernel_logs(tmp_path):
    from dataclasses import asdict

    from nbclient.exceptions import CellTimeoutError

    from coordkit.grading.sandboxed_execute import execute_preprocessor

    work, home = tmp_path / "work", tmp_path / "run" / "home"
    work.mkdir()
    home.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('こんにちは')"),
                                         nbformat.v4.new_code_cell("while True:\n    pass")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    execute = execute_preprocessor()(home=str(home), deny=[str(tmp_path / "course")],
                                     limits=asdict(Limits(cell_timeout=2)), timeout=600, interrupt_on_timeout=False)
    with pytest.raises(CellTimeoutError):
        execute.preprocess(nb, {"metadata": {"path": str(work)}})
    assert nb.cells[0].outputs[0]["text"] == "こんにちは\n"
    assert execute.sandbox_status["audit_hook"] is True
    assert (tmp_path / "run" / KERNEL_LOG).is_file()
