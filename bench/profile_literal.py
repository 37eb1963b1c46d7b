"""Where a literal-engine worker spends its CPU per submission: cProfile over grade_submission.

A simulated cohort is released and submitted (or an existing bench folder is reused with --keep),
then graded with `coordkit.grading.grade_cohort` (literal engine) in this one process: the worker
pool is replaced by one that runs each task here, under cProfile, so the profile is that of one
worker's per-submission work (the first submission, which pays the first-use costs, is graded but
left out of the profile and of the averages). It prints the CPU seconds per submission of this
process and of the test processes it forked, then the top functions.

    python bench/profile_literal.py --trainees 20
    python bench/profile_literal.py --keep /tmp/prof --sort tottime --top 40
"""

from __future__ import annotations

import argparse
import concurrent.futures
import cProfile
import os
import pstats
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


class _InProcessPool:
    """Just enough of ProcessPoolExecutor for grade_cohort: each task runs at submit (no initializer)."""

    def __init__(self, *args, profile: cProfile.Profile, samples: list, **kwargs):
        self.profile, self.samples = profile, samples

    def submit(self, fn, *args, **kwargs):
        future = concurrent.futures.Future()
        profiled = getattr(fn, "__name__", "") == "grade_submission"
        warm = profiled and not self.samples      # the first submission pays first-use costs: not profiled
        if profiled and not warm:
            own, kids, wall = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
            self.profile.enable()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001
            future.set_exception(exc)
        if profiled and not warm:
            self.profile.disable()
            self.samples.append((_cpu(resource.RUSAGE_SELF) - own, _cpu(resource.RUSAGE_CHILDREN) - kids,
                                 time.perf_counter() - wall))
        elif warm:
            self.samples.append(None)
        return future

    def shutdown(self, *args, **kwargs):
        pass


class _NoProfile:
    def enable(self):
        pass

    def disable(self):
        pass


def _time_steps(steps: dict[str, float]) -> None:
    """CPU of each nbconvert preprocessor and of the template rendering, summed over the run."""
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.preprocessors import Preprocessor

    def timed(name_of, real):
        def wrapper(self, *args, **kwargs):
            started = time.process_time()
            try:
                return real(self, *args, **kwargs)
            finally:
                name = name_of(self)
                steps[name] = steps.get(name, 0.0) + time.process_time() - started
        return wrapper

    Preprocessor.__call__ = timed(lambda self: type(self).__name__, Preprocessor.__call__)
    TemplateExporter.from_notebook_node = timed(lambda self: f"{type(self).__name__} (all, with its preprocessors)",
                                                TemplateExporter.from_notebook_node)


def main(argv: list[str] | None = None) -> int:
    from coordkit.content.banks import load_banks
    from coordkit.config import load_settings
    from coordkit.cohort.simulate.scratch import copy_course, scratch_course
    from coordkit.content.facts import load_facts
    from coordkit import grading

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trainees", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--assignment", default="cs01_job_loss")
    parser.add_argument("--keep", help="work in this folder and keep it (its base course is reused)")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (default: cumulative)")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--out", help="also dump the raw profile here")
    parser.add_argument("--no-profile", action="store_true",
                        help="no cProfile: CPU per submission as it is, and the CPU of each nbconvert step")
    args = parser.parse_args(argv)

    settings = load_settings(ROOT)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="coordkit-prof-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.update({"COORDKIT_DB_URL": "", "MPLBACKEND": "Agg"})
    if (work / "base").is_dir():
        from coordkit.cohort.simulate.scratch import course_settings

        base = course_settings(work / "base", settings=settings)
    else:
        facts = load_facts(settings.facts)
        banks = load_banks(settings.items_dir, facts, [args.assignment], rubrics_dir=settings.rubrics_dir)
        base = scratch_course(work / "base", settings=settings, banks=banks, trainees=args.trainees, seed=args.seed)
    shutil.rmtree(work / "graded", ignore_errors=True)
    ours = copy_course(work / "graded", settings=base)
    from coordkit.course import tool_env

    os.environ.update(tool_env(ours))

    import functools

    from coordkit.grading import nbgrader_plugins, testproc

    # the tests run as in a `coordkit grade` worker: through this process's test helper
    nbgrader_plugins.run_tests_apart = functools.partial(testproc.run_tests_apart, helper=True)
    kids_before = _cpu(resource.RUSAGE_CHILDREN)
    profile, samples = cProfile.Profile(), []
    steps: dict[str, float] = {}
    if args.no_profile:
        profile = _NoProfile()
        _time_steps(steps)
    real = concurrent.futures.ProcessPoolExecutor
    concurrent.futures.ProcessPoolExecutor = lambda *a, **k: _InProcessPool(profile=profile, samples=samples)
    run_cpu = _cpu(resource.RUSAGE_SELF)
    try:
        result = grading.grade_cohort([args.assignment], settings=ours, jobs=1, force=True, show_progress=False)
    finally:
        concurrent.futures.ProcessPoolExecutor = real
    run_cpu = _cpu(resource.RUSAGE_SELF) - run_cpu
    for server in list(testproc._SERVERS.values()):   # reap the test helper: its CPU (and its test
        server.stop()                                   # processes') counts from here on
    helper = (_cpu(resource.RUSAGE_CHILDREN) - kids_before - sum(s[1] for s in samples if s)) / max(1, len(samples))
    timed = [s for s in samples if s]
    n = len(timed)
    print(f"Work folder: {work}   graded {sum(result.graded.values())}, "
          f"quarantined {sum(len(v) for v in result.quarantined.values())}   load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if n:
        own, kids, wall = (sum(s[i] for s in timed) / n for i in range(3))
        print(f"per submission (mean of {n}, first left out): CPU {own + kids:.3f} s "
              f"(grader {own:.3f} s + test processes {kids:.3f} s), wall {wall:.3f} s; "
              f"+ {helper:.3f} s per submission in the test helper (coordkit.testproc, reaped at the end)")
    if n:
        graded = sum(s[0] for s in timed) / n * len(samples)
        print(f"grade_cohort in this process: CPU {run_cpu:.2f} s, of which about {run_cpu - graded:.2f} s outside "
              f"grade_submission (planning, the template gradebook, writing the course gradebook, installing)")
    if steps and n:
        for name, seconds in sorted(steps.items(), key=lambda kv: -kv[1]):
            print(f"  {name:44}{seconds / (n + 1) * 1000:8.1f} ms per submission (CPU, all submissions)")
        return 0
    if args.out:
        profile.dump_stats(args.out)
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
