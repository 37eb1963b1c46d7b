"""Marking written answers on a real graded course: allocation, blind double marking, moderation,
workbooks, and the marking app driven in headless Chromium beside the real Formgrader."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ASSIGNMENT = "cs01_job_loss"
TRAINEES = 6
WRITTEN = 3                                  # written answers per cs01 submission


@pytest.fixture(scope="module")
def course(tmp_path_factory, settings, facts, tool_path_env):
    from coordkit.content.banks import load_banks
    from coordkit.cohort.simulate.scratch import scratch_course
    from coordkit.grading import grade_cohort

    banks = load_banks(settings.items_dir, facts, [ASSIGNMENT], rubrics_dir=settings.rubrics_dir)
    course = scratch_course(tmp_path_factory.mktemp("marking"), settings=settings, banks=banks,
                            trainees=TRAINEES, seed=7)
    result = grade_cohort([ASSIGNMENT], settings=course, jobs=1)
    assert result.worked == TRAINEES
    return course


@pytest.fixture(scope="module")
def allocated(course):
    from coordkit.marking import allocate

    result = allocate(course, ASSIGNMENT, ["sato", "tanaka", "lee"], double=0.5, seed=1)
    assert result.new_answers == TRAINEES * WRITTEN
    return result


def _levels(course, aid, pick):
    from coordkit.marking.written import find_answer, rubric_cell

    answer = find_answer(course, aid)
    cell = rubric_cell(course, answer.assignment, answer.grade_id)
    return {c.id: pick(c) for c in cell.criteria}


def _top(c):
    return c.levels[-1].points


def _bottom(c):
    return c.levels[0].points


def _grade(course, aid):
    from nbgrader.api import Gradebook

    from coordkit.marking.written import find_answer

    a = find_answer(course, aid)
    with Gradebook(course.db_url, "coordkit") as gb:
        g = gb.find_grade(a.grade_id, a.notebook, a.assignment, a.student)
        c = gb.find_comment(a.grade_id, a.notebook, a.assignment, a.student)
        return g.manual_score, g.needs_manual_grade, c.manual_comment


def _slots(course):
    import sqlalchemy as sa

    from coordkit.marking.store import allocation_table, engine

    with engine(course).connect() as conn:
        rows = conn.execute(sa.select(allocation_table.c.answer_id, allocation_table.c.slot,
                                      allocation_table.c.marker)).all()
    out: dict = {}
    for r in rows:
        out.setdefault(r.answer_id, {})[r.slot] = r.marker
    return out


def test_allocation_is_even_blind_double_and_idempotent(course, allocated):
    from coordkit.marking import allocate

    slots = _slots(course)
    assert len(slots) == TRAINEES * WRITTEN
    firsts = [s[1] for s in slots.values()]
    counts = [firsts.count(m) for m in ("sato", "tanaka", "lee")]
    assert max(counts) - min(counts) <= 1
    doubles = [s for s in slots.values() if 2 in s]
    assert len(doubles) == round(0.5 * TRAINEES * WRITTEN)
    assert all(s[1] != s[2] for s in doubles), "a second marker is never the first marker"
    totals = allocated.per_marker
    assert max(totals.values()) - min(totals.values()) <= 1, totals
    again = allocate(course, ASSIGNMENT, ["sato", "tanaka", "lee"], double=0.5, seed=1)
    assert again.new_answers == 0 and _slots(course) == slots


def test_a_single_mark_is_final_and_reaches_nbgrader(course, allocated):
    from coordkit.marking import save_mark

    aid, s = next((a, s) for a, s in _slots(course).items() if 2 not in s)
    levels = _levels(course, aid, _top)
    saved = save_mark(course, aid, s[1], levels, "よくできています。")
    assert saved.status == "final" and saved.final_score == sum(levels.values())
    score, needs, comment = _grade(course, aid)
    assert (score, needs) == (sum(levels.values()), False)
    assert comment.endswith("よくできています。") and sum(l.startswith("・") for l in comment.splitlines()) == len(levels), comment


def test_double_marks_apart_wait_for_moderation_and_the_moderator_decides(course, allocated):
    from coordkit.marking import answer_status, moderate, moderation_queue, save_mark

    aid, s = next((a, s) for a, s in sorted(_slots(course).items()) if 2 in s)
    high, low = _levels(course, aid, _top), _levels(course, aid, _bottom)
    assert save_mark(course, aid, s[1], high).status == "awaiting second marker"
    assert _grade(course, aid)[:2] == (None, True), "no mark is published before the second marker"
    assert save_mark(course, aid, s[2], low).status == "moderation"
    assert aid in [a for a, _ in moderation_queue(course, ASSIGNMENT)]
    assert _grade(course, aid)[:2] == (None, True)
    with pytest.raises(Exception, match="reason"):
        moderate(course, aid, "chief", high, reason=" ")
    middle = {k: (high[k] + low[k]) // 2 for k in high}
    saved = moderate(course, aid, "chief", middle, "合議の結果", reason="two markers 4 points apart")
    assert saved.status == "moderated" and saved.final_score == sum(middle.values())
    assert _grade(course, aid)[:2] == (sum(middle.values()), False) and _grade(course, aid)[2].endswith("合議の結果")
    status, final, marks = answer_status(course, aid)
    assert [(m.marker, m.role) for m in marks] == [(s[1], "first"), (s[2], "second"), ("chief", "moderator")]
    assert final.reason == "two markers 4 points apart"


def test_double_marks_within_the_margin_keep_the_first_mark(course, allocated):
    from coordkit.marking import save_mark

    aid, s = [(a, s) for a, s in sorted(_slots(course).items()) if 2 in s][1]
    first = _levels(course, aid, _top)
    second = dict(first)
    key = next(iter(second))
    second[key] -= 1                                   # one point apart: within the default margin
    save_mark(course, aid, s[1], first, "first")
    saved = save_mark(course, aid, s[2], second, "second")
    assert saved.status == "final" and saved.final_score == sum(first.values())
    assert _grade(course, aid)[2].endswith("first")


def test_a_marker_cannot_mark_an_answer_outside_their_queue(course, allocated):
    from coordkit.marking import MarkingError, save_mark

    aid, s = next((a, s) for a, s in _slots(course).items() if 2 not in s)
    stranger = next(m for m in ("sato", "tanaka", "lee") if m != s[1])
    with pytest.raises(MarkingError, match="not in .*queue"):
        save_mark(course, aid, stranger, _levels(course, aid, _top))


def test_a_level_not_in_the_rubric_is_refused_with_its_name(course, allocated):
    from coordkit.marking import MarkingError, save_mark

    aid, s = next((a, s) for a, s in _slots(course).items() if 2 not in s)
    levels = _levels(course, aid, _top)
    key = next(iter(levels))
    with pytest.raises(MarkingError, match=f"level 9 is not in the rubric for '{key}'"):
        save_mark(course, aid, s[1], {**levels, key: 9})


def test_workbook_round_trip_and_an_all_or_nothing_import(course, allocated, tmp_path):
    import openpyxl

    from coordkit.marking import MarkingError, queue
    from coordkit.marking.marks import history
    from coordkit.marking.written import find_answer
    from coordkit.marking.workbook import export_workbook, import_workbook

    marker = "lee"
    book = tmp_path / "lee.xlsx"
    n = export_workbook(course, marker, book)
    assert n == len(queue(course, marker))
    wb = openpyxl.load_workbook(book)
    ws = wb["marking"]
    header = [c.value for c in ws[1]]
    assert "rubric" in wb.sheetnames and ws.max_row == n + 1
    rows = list(ws.iter_rows(min_row=2))
    for row in rows:
        gid = row[header.index("question")].value
        for i, h in enumerate(header):
            if h and h.startswith(gid + ":"):
                row[i].value = 1
        row[header.index("comment")].value = "表で採点"
    wb.save(book)

    # a bad row anywhere: nothing from the file is applied
    bad = tmp_path / "bad.xlsx"
    crit_col = next(i for i, h in enumerate(header) if h and h.startswith(rows[1][header.index("question")].value + ":"))
    ws.cell(row=3, column=crit_col + 1).value = 7
    ws.cell(row=4, column=1).value = "AFFFFFFFFFFF"
    wb.save(bad)
    before = {e.answer_id: len(history(course, e.answer_id)) for e in queue(course, marker)}
    with pytest.raises(MarkingError) as err:
        import_workbook(course, marker, bad)
    message = str(err.value)
    assert "nothing was imported" in message
    assert f"row 3 column {openpyxl.utils.get_column_letter(crit_col + 1)}" in message and "7 is not a level" in message
    assert "row 4 column A: answer AFFFFFFFFFFF is not in lee's queue" in message
    assert {e.answer_id: len(history(course, e.answer_id)) for e in queue(course, marker)} == before

    result = import_workbook(course, marker, book)
    assert result.applied + result.unchanged == n and result.blank == 0
    assert all(e.done for e in queue(course, marker))
    assert import_workbook(course, marker, book).applied == 0, "importing the same file again changes nothing"

    # an answer resubmitted since export is refused, by row
    first = rows[0][header.index("answer_id")].value
    answer = find_answer(course, first)
    from coordkit.marking.written import _notebook_path

    path = _notebook_path(course, answer.student, answer.assignment, answer.notebook)
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == answer.grade_id:
            cell["source"] = "書き直した回答"
    path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(MarkingError, match="row 2: answer .* was resubmitted"):
        import_workbook(course, marker, book)


def test_marks_export_in_the_rubric_scores_shape(course, allocated):
    from coordkit.cohort import TABLES
    from coordkit.marking import marks_frame

    frame = marks_frame(course, ASSIGNMENT)
    assert list(frame.columns) == [c.name for c in TABLES["rubric_scores"].columns]
    assert len(frame) > 0 and set(frame["rater_id"]) <= {"sato", "tanaka", "lee"}
    assert (frame["points"] <= frame["max_points"]).all()


# -- the app in Chromium ---------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, course, marker):
        from coordkit.cli.mark import serve_command

        self.port = _free_port()
        self.token = os.urandom(8).hex()
        cmd, env = serve_command(course, marker=marker, port=self.port, token=self.token)
        self.log = Path(course.reports_dir) / f"server-{marker}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(cmd, env=env, cwd=course.course_root, stdout=self.log.open("w"),
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                self.get("api/queue")
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the marking server did not start: {self.log.read_text()[-2000:]}")

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}/coordkit/marking{('/' + path) if path else ''}"

    def get(self, path, base=None):
        url = (base or self.url(path)) + ("&" if "?" in (base or self.url(path)) else "?") + f"token={self.token}"
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())

    def post(self, aid, body):
        req = urllib.request.Request(self.url(f"api/answer/{aid}"), data=json.dumps(body).encode(),
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=20) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def test_marking_with_the_keyboard_persists_and_formgrader_shows_the_same_score(course, allocated, chromium,
                                                                              tmp_path):
    from playwright.sync_api import expect

    from coordkit.marking import answer_status, queue

    marker = "sato"
    todo = [e for e in queue(course, marker) if not e.done]
    assert len(todo) >= 2
    server = Server(course, marker)
    try:
        page = chromium.new_page(viewport={"width": 1100, "height": 1300})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(server.url() + f"?token={server.token}")
        page.wait_for_selector("fieldset.criterion")
        marked = []
        for _ in range(2):
            aid = page.inner_text("#answer-id").split()[-1]
            n = page.locator("fieldset.criterion").count()
            for _ in range(n):
                page.keyboard.press("1")                 # level index 1 on each criterion, in turn
            page.keyboard.press("c")
            page.keyboard.type("要点は押さえています")
            page.keyboard.press("Escape")
            page.keyboard.press("Enter")                 # save and go to the next answer
            expect(page.locator("#answer-id")).not_to_have_text(f"回答 {aid}", timeout=5000)
            marked.append((aid, n))
        page.screenshot(path=str(tmp_path / "marking.png"), full_page=True)
        assert any(2 not in _slots(course)[aid] for aid, _ in marked), "at least one mark is final at once"
        # reload each marked answer: the levels and the comment are still there
        for aid, n in marked:
            page.goto(server.url() + f"?token={server.token}#{aid}")
            page.reload()
            expect(page.locator("#answer-id")).to_have_text(f"回答 {aid}")
            assert page.locator("fieldset.criterion input:checked").count() == n
            assert page.input_value("#comment") == "要点は押さえています"
        assert not errors, errors
        # Formgrader (same server, nbgrader's own API) shows the same score for that cell
        from coordkit.marking.written import find_answer

        for aid, n in marked:
            a = find_answer(course, aid)
            notebooks = server.get("", base=f"http://127.0.0.1:{server.port}/formgrader/api/submitted_notebooks/"
                                             f"{a.assignment}/{a.notebook}")
            nb_id = next(nb["id"] for nb in notebooks if nb["student"] == a.student)
            grades = server.get("", base=f"http://127.0.0.1:{server.port}/formgrader/api/grades?submission_id={nb_id}")
            grade = next(g for g in grades if g["name"] == a.grade_id)
            score, needs, _ = _grade(course, aid)
            assert (grade["manual_score"], grade["needs_manual_grade"]) == (score, needs)
            status, final, _ = answer_status(course, aid)
            if 2 not in _slots(course)[aid]:                      # marked once: the mark is final
                assert score == n * 1.0 and not needs             # level index 1 is 1 point in cs01's rubric
            else:                                                 # blind double: final only once both agree
                assert score == (final.score if final else None) and needs == (final is None), status
        # an answer not in this marker's queue: refused by the server, not only hidden by the page
        other = next(e.answer_id for e in queue(course, "tanaka") if e.answer_id not in {q.answer_id for q in queue(course, marker)})
        with pytest.raises(urllib.error.HTTPError) as refused:
            server.get(f"api/answer/{other}")
        assert refused.value.code == 403
    finally:
        server.stop()


def test_two_markers_saving_at_the_same_moment_lose_nothing(course, allocated):
    from coordkit.marking import answer_status, queue

    a, b = Server(course, "tanaka"), Server(course, "lee")
    try:
        jobs = []
        for server, marker in ((a, "tanaka"), (b, "lee")):
            for e in queue(course, marker)[:4]:
                jobs.append((server, marker, e.answer_id))
        barrier = threading.Barrier(len(jobs))
        failures = []

        def post(server, marker, aid):
            levels = _levels(course, aid, _bottom)
            barrier.wait()
            try:
                server.post(aid, {"levels": levels, "comment": f"{marker} 同時保存"})
            except Exception as exc:  # noqa: BLE001 - reported below
                failures.append((marker, aid, exc))

        threads = [threading.Thread(target=post, args=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures, failures
        for _, marker, aid in jobs:
            marks = answer_status(course, aid)[2]
            assert any(m.marker == marker and m.comment == f"{marker} 同時保存" for m in marks), (marker, aid)
    finally:
        a.stop()
        b.stop()
