"""The marking app: a Jupyter Server extension, beside Formgrader in the lecturer's Jupyter server.

Why a server extension (and not Voilà or a JupyterLab extension): it runs where lecturers already
work (their Jupyter server, alone or under JupyterHub, next to nbgrader's Formgrader, which is one
too), needs no build step or kernel per marker, answers a save in milliseconds, and its page is plain
HTML with keyboard handling that a widget front end cannot give. The marker is the server's user
(`COORDKIT_MARKER` when one person's server is started by `coordkit mark serve`). A trainee's answer
is sent as JSON and put on the page as text (textContent), never as HTML.

Routes (all need the server's login; the API also its XSRF token):
  GET  /coordkit/marking                  the page
  GET  /coordkit/marking/api/queue        this marker's queue and progress
  GET  /coordkit/marking/api/answer/<id>  one answer of this marker's queue, with its rubric
  POST /coordkit/marking/api/answer/<id>  {"levels": {criterion: points}, "comment": "..."}
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tornado import web

STATIC = Path(__file__).with_name("static")
BASE = "coordkit/marking"


def _settings():
    from ..config import for_course, load_settings

    root = os.environ.get("COORDKIT_ROOT")
    settings = for_course(load_settings(Path(root) if root else None), os.environ.get("COORDKIT_COURSE"))
    overrides = {}
    if os.environ.get("COORDKIT_DB_URL"):
        overrides["db_url"] = os.environ["COORDKIT_DB_URL"]
    if os.environ.get("COORDKIT_COURSE_ROOT"):
        overrides["course_root"] = Path(os.environ["COORDKIT_COURSE_ROOT"]).resolve()
    return settings.with_overrides(**overrides)


def _markdown(text: str) -> str:
    """Course-authored text (case, question, model answer) to HTML; raw HTML in it is escaped."""
    import re

    from markdown_it import MarkdownIt

    # a line break inside a Japanese sentence is not a space (the item banks wrap long prompts)
    text = re.sub(r"(?<=[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef])\n(?=[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef])",
                  "", text or "")
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def _handlers():
    from jupyter_server.base.handlers import APIHandler, JupyterHandler

    from .allocation import queue
    from .marks import answer_status, save_mark
    from .store import MarkingError
    from .written import find_answer, manual_items, rubric_cell

    class Base:
        @property
        def marker(self) -> str:
            return os.environ.get("COORDKIT_MARKER") or self.current_user.username

        @property
        def ck(self):
            return self.settings["coordkit_settings"]

        def mine(self, aid: str):
            entries = {e.answer_id: e for e in queue(self.ck, self.marker)}
            if aid not in entries:
                raise web.HTTPError(403, f"answer {aid} is not in {self.marker}'s queue")
            return entries

    class Page(Base, JupyterHandler):
        @web.authenticated
        def get(self):
            page = (STATIC / "index.html").read_text(encoding="utf-8")
            self.set_header("Content-Security-Policy",
                            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                            "object-src 'none'; base-uri 'none'; frame-ancestors 'self'")
            xsrf = self.xsrf_token.decode("ascii")     # also sets the _xsrf cookie
            self.finish(page.replace("{{base}}", self.base_url.rstrip("/") + "/" + BASE).replace("{{xsrf}}", xsrf))

    class Static(Base, JupyterHandler):
        TYPES = {".js": "application/javascript", ".css": "text/css", ".ttf": "font/ttf"}

        @web.authenticated
        def get(self, name):
            path = STATIC / name
            if name == "ipaexg.ttf":       # Japanese renders even where the computer has no Japanese font
                import matplotlib_fontja

                path = Path(matplotlib_fontja.get_font_ttf_path())
            elif path.suffix not in self.TYPES or not path.is_file() or path.parent != STATIC:
                raise web.HTTPError(404)
            self.set_header("Cache-Control", "max-age=3600")
            self.set_header("Content-Type", self.TYPES[path.suffix] + "; charset=utf-8")
            self.finish(path.read_bytes())

    class Queue(Base, APIHandler):
        @web.authenticated
        def get(self):
            entries = queue(self.ck, self.marker, self.get_argument("assignment", None))
            self.finish(json.dumps({
                "marker": self.marker, "done": sum(e.done for e in entries), "total": len(entries),
                "answers": [{"id": e.answer_id, "assignment": e.assignment, "question": e.grade_id,
                             "done": e.done} for e in entries]}))

    class AnswerApi(Base, APIHandler):
        @web.authenticated
        def get(self, aid):
            self.mine(aid)
            answer = find_answer(self.ck, aid)
            bank, _ = manual_items(self.ck, answer.assignment)
            item = bank.item(answer.grade_id)
            cell = rubric_cell(self.ck, answer.assignment, answer.grade_id)
            own = [m for m in answer_status(self.ck, aid)[2] if m.marker == self.marker and m.role != "moderator"]
            self.finish(json.dumps({
                "id": aid, "assignment": answer.assignment, "title": bank.title_ja, "title_en": bank.title_en,
                "question": answer.grade_id, "points": answer.max_points,
                "prompt_html": _markdown(item.prompt), "case_html": _markdown(bank.case),
                "answer": answer.text, "sha": answer.sha,
                "model_answer_html": _markdown(item.model_answer),
                "criteria": [{"id": c.id, "ja": c.ja, "en": c.en,
                              "levels": [{"points": lv.points, "ja": lv.ja, "en": lv.en} for lv in c.levels]}
                             for c in cell.criteria],
                "mine": ({"levels": own[-1].levels, "comment": own[-1].comment, "at": own[-1].created_at}
                         if own else None),
            }, ensure_ascii=False))

        @web.authenticated
        def post(self, aid):
            self.mine(aid)
            try:
                body = json.loads(self.request.body or b"{}")
                levels = body["levels"]
                if not isinstance(levels, dict):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                raise web.HTTPError(400, 'send {"levels": {criterion: points}, "comment": "..."}') from None
            try:
                saved = save_mark(self.ck, aid, self.marker, levels, str(body.get("comment") or ""),
                                  source="app", expect_sha=body.get("sha"))
            except MarkingError as exc:
                self.set_status(409)
                self.finish(json.dumps({"message": str(exc)}, ensure_ascii=False))
                return
            entries = queue(self.ck, self.marker)
            ids = [e.answer_id for e in entries]
            after = ids[ids.index(aid) + 1:] + ids[:ids.index(aid)]
            pending = [i for i in after if not next(e for e in entries if e.answer_id == i).done]
            self.finish(json.dumps({"status": saved.status, "done": sum(e.done for e in entries),
                                    "total": len(entries), "next": pending[0] if pending else None}))

    return Page, Static, Queue, AnswerApi


def _jupyter_server_extension_points():
    return [{"module": "coordkit.marking.app"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from jupyter_server.utils import url_path_join

    Page, Static, Queue, AnswerApi = _handlers()
    web_app = serverapp.web_app
    web_app.settings["coordkit_settings"] = _settings()
    base = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [
        (url_path_join(base, BASE), Page),
        (url_path_join(base, BASE, "static", r"([\w.-]+)"), Static),
        (url_path_join(base, BASE, "api", "queue"), Queue),
        (url_path_join(base, BASE, "api", "answer", r"(A[0-9A-F]{11})"), AnswerApi),
    ])
    serverapp.log.info("coordkit marking app at %s", url_path_join(base, BASE))


load_jupyter_server_extension = _load_jupyter_server_extension
