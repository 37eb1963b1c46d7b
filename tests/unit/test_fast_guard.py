"""`make test-fast` runs no kernels: a test that starts one without the slow marker fails, in this process and
in any child process (tests/conftest.py)."""

import os
import subprocess
import sys

import nbformat
import pytest


@pytest.fixture
def fast_only():
    if os.environ.get("COORDKIT_TEST_FAST") != "1":          # set by tests/conftest.py in fast runs
        pytest.skip("the guard is on only in runs that leave out the slow tests (make test-fast)")


def test_a_kernel_started_here_fails_the_test(fast_only):
    from jupyter_client.manager import KernelManager

    with pytest.raises(RuntimeError, match="starts a Jupyter kernel; mark it @pytest.mark.slow"):
        KernelManager(kernel_name="python3").start_kernel()


def test_a_kernel_started_by_a_child_process_fails(fast_only, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('ran')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    script = ("import nbformat, sys; from nbclient import NotebookClient; "
              f"nb = nbformat.read({str(path)!r}, as_version=4); "
              "NotebookClient(nb, timeout=20, startup_timeout=20).execute(); print(nb.cells[0].outputs)")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0, proc.stdout
    assert "ran" not in proc.stdout
    assert "Kernel died" in proc.stderr or "DeadKernelError" in proc.stderr, proc.stderr[-2000:]


def test_the_slow_tests_are_marked(request):
    """Every folder and notebook that starts kernels, builds the book or starts a browser carries `slow`."""
    items = request.session.items
    marked = {str(i.path) for i in items if i.get_closest_marker("slow")}
    for item in items:
        path = str(item.path)
        if "/tests/notebooks/" in path or "/tests/hub/" in path or path.endswith(".ipynb"):
            assert path in marked, path
