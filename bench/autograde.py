"""Cohort autograding: stock nbgrader, the previous coordkit engine and the new one, in one run.

A simulated cohort (default: 60 trainees, seed 2024) is released and submitted once in a temporary
folder, then graded on separate fresh copies of that course:

1. stock: `nbgrader autograde <id> --create` with nbgrader's own autograde steps (the course's
   nbgrader_config.py now grades with coordkit's LiteralExecute; `stock_autograde_steps()` puts
   nbgrader's Execute back), then `nbgrader generate_feedback <id>`, one assignment after another
   (nbgrader grades one notebook at a time, each in a fresh kernel);
2. kernel: `coordkit grade <ids> --engine kernel --jobs N`, the previous engine (each notebook run
   in a sandboxed kernel, in parallel workers);
3. literal: `coordkit grade <ids> --jobs N`, the new engine (answers read as data, the course's tests
   run in the workers; no kernel).

It prints the wall time of each, the time per submission, the ratios stock / kernel and
stock / literal (the goal on a 2-core machine: literal at least 10 times stock), and whether every
per-cell score in the gradebook is identical to stock for each engine. The machine's load average
is printed too: other work on the machine slows every side, but not equally (N workers gain little
on a machine whose cores are already busy), so the CPU seconds each side used (its processes and
their children) are printed beside the wall times.

    python bench/autograde.py                      # 60 trainees, cs01_job_loss, --jobs 2
    python bench/autograde.py --trainees 10        # a quick check
    python bench/autograde.py --assignments all --jobs 2 4
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of every child it has waited for (nbgrader's
    commands, their kernels, coordkit's workers): what a run costs, whatever else loads the machine."""
    import resource

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def main(argv: list[str] | None = None) -> int:
    from tqdm import tqdm

    from coordkit.content.banks import load_banks
    from coordkit.config import load_settings
    from coordkit.course import autograde, export_scores, generate_feedback, submitted_students, tool_env
    from coordkit.cohort.simulate.scratch import copy_course, scratch_course
    from coordkit.content.facts import load_facts

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trainees", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--assignments", nargs="+", default=["cs01_job_loss"],
                        help="assignment ids, or 'all' (default: cs01_job_loss)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[2], help="coordkit --jobs values (default: 2)")
    parser.add_argument("--engines", nargs="+", default=["kernel", "literal"], choices=["kernel", "literal"],
                        help="coordkit engines to run (default: kernel literal)")
    parser.add_argument("--keep", help="work in this folder and keep it (default: a temporary folder)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    settings = load_settings(ROOT)
    facts = load_facts(settings.facts)
    ids = None if args.assignments == ["all"] else args.assignments
    banks = load_banks(settings.items_dir, facts, ids, rubrics_dir=settings.rubrics_dir)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="coordkit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"Work folder: {work}   cores: {os.cpu_count()}   load average: {_load()}")

    with tqdm(total=len(banks), desc="Releasing", unit="assignment", dynamic_ncols=True) as bar:
        base = scratch_course(work / "base", settings=settings, banks=banks, trainees=args.trainees,
                              seed=args.seed, progress=lambda _id: bar.update(1))
    names = [b.id for b in banks]
    total = sum(len(submitted_students(base, a)) for a in names)
    print(f"Cohort: {args.trainees} trainees, {total} submissions of {', '.join(names)}")

    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    stock = copy_course(work / "stock", settings=base)
    with tqdm(total=total, desc="stock nbgrader autograde", unit="submission", dynamic_ncols=True) as bar:
        started, used = time.perf_counter(), _cpu()
        for a in names:
            autograde(a, settings=stock, tick=lambda _s: bar.update(1), stock=True)   # nbgrader's own steps
        timings["stock autograde"] = time.perf_counter() - started
        cpu["stock autograde"] = _cpu() - used
    started, used = time.perf_counter(), _cpu()
    for a in tqdm(names, desc="stock nbgrader generate_feedback", unit="assignment", dynamic_ncols=True):
        generate_feedback(a, settings=stock)
    timings["stock generate_feedback"] = time.perf_counter() - started
    cpu["stock generate_feedback"] = _cpu() - used
    reference = export_scores(settings=stock, assignments=names)

    same: dict[str, bool] = {}
    for engine in args.engines:
        for jobs in args.jobs:
            label = f"coordkit {engine} --jobs {jobs}"
            ours = copy_course(work / f"{engine}-jobs{jobs}", settings=base)
            cmd = [sys.executable, "-m", "coordkit", "grade", *names, "--course", str(ours.course_root),
                   "--jobs", str(jobs), "--engine", engine, "--reports", str(work / f"reports-{engine}-jobs{jobs}")]
            print(f"$ coordkit grade ... --engine {engine} --jobs {jobs}   (load average {_load()})")
            started, used = time.perf_counter(), _cpu()
            done = subprocess.run(cmd, cwd=ROOT, env=tool_env(settings), stdout=subprocess.PIPE, text=True)
            timings[label] = time.perf_counter() - started
            cpu[label] = _cpu() - used
            table = done.stdout.strip().splitlines()
            print("\n".join("    " + line for line in table[:len(names) + 1]))
            if done.returncode != 0:
                print(done.stdout)
                return done.returncode
            same[label] = export_scores(settings=ours, assignments=names).equals(reference)

    stock_total = timings["stock autograde"] + timings["stock generate_feedback"]
    cpu["stock autograde + feedback"] = stock_cpu = cpu["stock autograde"] + cpu["stock generate_feedback"]
    print(f"\n{'':36}{'wall s':>9}{'s per submission':>19}{'stock (autograde + feedback) / this':>38}"
          f"{'CPU s':>9}{'CPU ratio':>11}")
    rows = [("stock autograde", timings["stock autograde"]),
            ("stock generate_feedback", timings["stock generate_feedback"]),
            ("stock autograde + feedback", stock_total)]
    rows += [(k, v) for k, v in timings.items() if k.startswith("coordkit")]
    for label, seconds in rows:
        ours = label.startswith("coordkit")
        ratio = f"{stock_total / seconds:.2f}x" if ours else ""
        cpu_ratio = f"{stock_cpu / cpu[label]:.2f}x" if ours and cpu[label] else ""
        print(f"{label:36}{seconds:9.1f}{seconds / total:19.3f}{ratio:>38}{cpu[label]:9.1f}{cpu_ratio:>11}")
    best = max(args.jobs)
    for engine in args.engines:
        ours_best = timings[f"coordkit {engine} --jobs {best}"]
        goal = "   (goal on 2 cores: >= 10)" if engine == "literal" else ""
        print(f"Ratio (stock autograde + feedback) / (coordkit {engine} --jobs {best}): {stock_total / ours_best:.2f}x"
              f"{goal}")
        print(f"Ratio (stock autograde alone)      / (coordkit {engine} --jobs {best}): "
              f"{timings['stock autograde'] / ours_best:.2f}x   (coordkit also writes the feedback)")
    verdict = all(same.values())
    print(f"Every score identical to stock nbgrader: {'yes' if verdict else 'NO'} "
          f"({len(reference)} graded cells; " + ", ".join(f"{k.removeprefix('coordkit ')}: "
                                                         f"{'same' if v else 'DIFFERENT'}" for k, v in same.items()) + ")")
    print(f"Load average at the end: {_load()}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "trainees": args.trainees, "submissions": total, "assignments": names, "timings": timings,
            "ratios": {k: stock_total / v for k, v in timings.items() if k.startswith("coordkit")},
            "cpu_seconds": cpu,
            "scores_identical": same}, indent=2), encoding="utf-8")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
