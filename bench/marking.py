"""Marking written answers: coordkit's marking app and workbook import against stock nbgrader, in one run.

A simulated cohort (default 60 trainees, seed 2024, every training assignment with written answers)
is released, submitted and graded once in a temporary folder. Then:

1. save -> next answer on screen. coordkit: in the marking app in headless Chromium, a level key per
   criterion, Enter, until the next answer is shown. Stock: Formgrader, in the same server and
   browser: type a score into the written cell's score box (Formgrader saves it on change), then
   open the next submission of the same notebook until its page has loaded. Goal: under 0.3 s.
2. import 1,600 marks (a 60-trainee cohort's written answers, one marker's workbook). coordkit:
   `import_workbook` (checks every row, then one transaction). Stock: what a script does with
   nbgrader's own Gradebook API (find_grade, set manual_score, commit) for the same marks.
   Goal: under 5 s.

    python bench/marking.py                       # 60 trainees
    python bench/marking.py --trainees 10 --answers 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "notebooks"))


def build_course(folder: Path, trainees: int, seed: int):
    from coordkit.banks import load_banks
    from coordkit.config import load_settings
    from coordkit.course import course_settings, scratch_course
    from coordkit.facts import load_facts
    from coordkit.grading import grade_cohort

    settings = load_settings(ROOT)
    banks = [b for b in load_banks(settings.items_dir, load_facts(settings.facts), rubrics_dir=settings.rubrics_dir)
             if b.cycle == "training" and any(not i.auto for i in b.items)]
    done = folder / f"graded-{trainees}-{seed}.ok"
    if done.is_file():                                  # --workdir: a course this script built and graded before
        print(f"course: {trainees} trainees, reusing the graded course in {folder}")
        return course_settings(folder, settings=settings), [b.id for b in banks]
    t = time.perf_counter()
    course = scratch_course(folder, settings=settings, banks=banks, trainees=trainees, seed=seed)
    grade_cohort([b.id for b in banks], settings=course)
    print(f"course: {trainees} trainees, {len(banks)} assignments with written answers, released, submitted and "
          f"graded in {time.perf_counter() - t:.0f} s")
    done.write_text("graded\n")
    return course, [b.id for b in banks]


def bench_app(course, assignments, answers: int):
    from playwright.sync_api import expect, sync_playwright
    from test_marking import Server

    from coordkit.marking import allocate, queue

    allocate(course, assignments[0], ["app"], seed=1)
    server = Server(course, "app")
    ours, stock = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_page()
            page.goto(server.url() + f"?token={server.token}")
            page.wait_for_selector("fieldset.criterion")
            for _ in range(min(answers, len(queue(course, "app")) - 1)):
                shown = page.inner_text("#answer-id")
                for _ in range(page.locator("fieldset.criterion").count()):
                    page.keyboard.press("1")
                t = time.perf_counter()
                page.keyboard.press("Enter")
                expect(page.locator("#answer-id")).not_to_have_text(shown, timeout=10000)
                page.locator("fieldset.criterion").first.wait_for()
                ours.append(time.perf_counter() - t)

            # stock Formgrader: the same kind of answer, score typed, then the next submission's page
            fg = f"http://127.0.0.1:{server.port}/formgrader"
            notebooks = server.get("", base=f"{fg}/api/submitted_notebooks/{assignments[0]}/{assignments[0]}")
            ids = [nb["id"] for nb in notebooks]
            grades_loaded = lambda r: "/formgrader/api/grades" in r.url      # noqa: E731 - the page is usable
            with page.expect_response(grades_loaded, timeout=20000):
                page.goto(f"{fg}/submissions/{ids[0]}/?token={server.token}")
            for i in range(min(answers, len(ids) - 1)):
                page.wait_for_selector("input.score")
                page.wait_for_load_state("networkidle")
                box = page.locator("input.score").first
                box.fill("1" if box.input_value() != "1" else "0")
                t = time.perf_counter()
                # Formgrader saves on change (a PUT to its grade API); wait for the server's answer
                with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT",
                                          timeout=10000):
                    box.press("Tab")
                with page.expect_response(grades_loaded, timeout=20000):
                    page.goto(f"{fg}/submissions/{ids[i + 1]}/")
                page.wait_for_selector("input.score")
                stock.append(time.perf_counter() - t)
            browser.close()
    finally:
        server.stop()
    return ours, stock


def bench_import(course, assignments, folder: Path):
    import openpyxl
    from nbgrader.api import Gradebook

    from coordkit.marking import allocate, queue
    from coordkit.marking.written import find_answers
    from coordkit.marking.workbook import export_workbook, import_workbook

    for a in assignments:
        allocate(course, a, ["sheet"], seed=2)
    book = folder / "sheet.xlsx"
    n = export_workbook(course, "sheet", book)
    wb = openpyxl.load_workbook(book)
    ws = wb["marking"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        gid = row[header.index("question")].value
        for i, h in enumerate(header):
            if h and h.startswith(gid + ":"):
                row[i].value = 1
        row[header.index("comment")].value = "表で採点しました"
    wb.save(book)
    t = time.perf_counter()
    result = import_workbook(course, "sheet", book)
    ours = time.perf_counter() - t
    assert result.applied == n, result

    found = find_answers(course, [e.answer_id for e in queue(course, "sheet")])
    t = time.perf_counter()
    with Gradebook(course.db_url, "coordkit") as gb:
        for a in found.values():
            grade = gb.find_grade(a.grade_id, a.notebook, a.assignment, a.student)
            grade.manual_score = 1.0
            comment = gb.find_comment(a.grade_id, a.notebook, a.assignment, a.student)
            comment.manual_comment = "表で採点しました"
            gb.db.commit()
    stock = time.perf_counter() - t
    return n, ours, stock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trainees", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--answers", type=int, default=30, help="answers marked in each browser run")
    parser.add_argument("--workdir", help="keep the graded course here and reuse it on the next run "
                                          "(building and grading 60 trainees takes minutes); default: a temporary folder")
    args = parser.parse_args()
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    with tempfile.TemporaryDirectory(prefix="coordkit-bench-marking-") as tmp:
        work = Path(args.workdir).resolve() if args.workdir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        course, assignments = build_course(work, args.trainees, args.seed)
        ours, stock = bench_app(course, assignments, args.answers)
        n, imp, imp_stock = bench_import(course, assignments, Path(tmp))

    def line(name, xs):
        return f"{name:<34} median {statistics.median(xs):.3f} s  p95 {sorted(xs)[int(0.95 * (len(xs) - 1))]:.3f} s  (n={len(xs)})"

    print("\nsave -> next answer on screen")
    print("  " + line("coordkit marking app", ours))
    print("  " + line("stock Formgrader (score, next page)", stock))
    print(f"  ratio stock / coordkit (median): {statistics.median(stock) / statistics.median(ours):.1f}x;"
          f" goal < 0.3 s: {'met' if statistics.median(ours) < 0.3 else 'NOT met'}")
    print(f"\nimport {n} marks")
    print(f"  coordkit import_workbook (checked, one transaction): {imp:.2f} s")
    print(f"  stock nbgrader Gradebook API, one commit per mark:   {imp_stock:.2f} s")
    print(f"  ratio stock / coordkit: {imp_stock / imp:.1f}x; goal < 5 s: {'met' if imp < 5 else 'NOT met'}")
    try:
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
