"""The test helper of `coordkit grade`'s workers (coordkit.grading.testproc): the same outcomes as running the
course's tests in this process, the same limits, nothing left running once it is stopped."""

import os

import psutil

from coordkit.grading import testproc

TESTS = [("q1", "assert q1 == 'a'"), ("q2", "assert q2 == 2, 'wrong'"), ("q3", "0.5"),
         ("q4", "from coordkit.checks import answer\nassert isinstance(answer, object)")]
VALUES = {"q1": "a", "q2": 3}


def _helpers():
    return [p for p in psutil.Process().children() if "coordkit.grading.testproc" in " ".join(p.cmdline())]


def test_the_helper_gives_the_outcomes_of_the_tests_run_here_and_stops_with_nothing_left():
    expected = testproc.run_tests(TESTS, VALUES)
    assert expected[1] == ("error", ("AssertionError", "wrong", ["AssertionError: wrong"]))
    try:
        assert testproc.run_tests_apart(TESTS, VALUES, helper=True) == expected
        helper = testproc._SERVERS[os.getpid()]
        assert [p.pid for p in _helpers()] == [helper.proc.pid]
        assert testproc.run_tests_apart(TESTS, VALUES, helper=True) == expected     # the same helper again
        assert testproc._SERVERS[os.getpid()] is helper
    finally:
        for server in list(testproc._SERVERS.values()):
            server.stop()
        testproc._SERVERS.clear()
    assert _helpers() == []


def test_through_the_helper_a_loop_or_memory_exhaustion_scores_zero_and_nothing_leaks_back():
    try:
        looped = testproc.run_tests_apart([("q1", "while True: pass"), ("q2", "pass")], {}, seconds=2, helper=True)
        assert [kind for kind, _ in looped] == ["error", "error"] and "longer than 2 s" in looped[0][1][1]
        hungry = testproc.run_tests_apart([("q1", "x = bytearray(4 * 1024**3)")], {}, memory_bytes=1024**3,
                                          helper=True)
        assert hungry[0][0] == "error"
        testproc.run_tests_apart([("q1", "import os; os.environ['COORDKIT_HELPER_MARK'] = '1'")], {}, helper=True)
        assert "COORDKIT_HELPER_MARK" not in os.environ
        assert testproc.run_tests_apart(TESTS, VALUES, helper=True) == testproc.run_tests(TESTS, VALUES)
    finally:
        for server in list(testproc._SERVERS.values()):
            server.stop()
        testproc._SERVERS.clear()
    assert _helpers() == []


def test_a_helper_that_died_is_replaced_and_outside_a_worker_no_helper_is_started():
    try:
        assert testproc.run_tests_apart(TESTS, VALUES, helper=True) == testproc.run_tests(TESTS, VALUES)
        first = testproc._SERVERS[os.getpid()]
        first.proc.kill()
        first.proc.wait()
        assert testproc.run_tests_apart(TESTS, VALUES, helper=True) == testproc.run_tests(TESTS, VALUES)
        assert testproc._SERVERS[os.getpid()] is not first
    finally:
        for server in list(testproc._SERVERS.values()):
            server.stop()
        testproc._SERVERS.clear()
    assert testproc.run_tests_apart(TESTS, VALUES) == testproc.run_tests(TESTS, VALUES)    # pytest: not a worker
    assert _helpers() == [] and testproc._SERVERS == {}
