"""Self-checks for book pages: interactive (ipywidgets) in a live notebook, and in the static HTML
the questions with their answers folded in a collapsed block. One object serves both: its display
bundle carries the widget view and a static HTML rendering; the book's HTML build is configured to
skip the widget view (nb_mime_priority_overrides in _config.yml), JupyterLab shows the widget."""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    prompt: str
    options: tuple[str, ...]
    answer: int                     # index into options
    explanation: str = ""


class SelfCheck:
    def __init__(self, title: str, questions: list[Question]):
        if len(questions) < 1:
            raise ValueError("a self-check needs at least one question")
        for q in questions:
            if not 0 <= q.answer < len(q.options):
                raise ValueError(f"answer index {q.answer} is out of range for {q.prompt!r}")
        self.title = title
        self.questions = list(questions)

    # -- static rendering ---------------------------------------------------------------------
    def to_html(self) -> str:
        parts = [f'<div class="coordkit-selfcheck"><p><strong>{html.escape(self.title)}</strong></p><ol>']
        for q in self.questions:
            opts = "".join(f"<li>{html.escape(o)}</li>" for o in q.options)
            parts.append(f'<li><p>{html.escape(q.prompt)}</p><ol type="A">{opts}</ol></li>')
        parts.append("</ol><details><summary>答えと解説 / Answers</summary><ol>")
        for q in self.questions:
            letter = "ABCDEFG"[q.answer]
            explanation = f"<br/>{html.escape(q.explanation)}" if q.explanation else ""
            parts.append(f"<li><strong>{letter}</strong>: {html.escape(q.options[q.answer])}{explanation}</li>")
        parts.append("</ol></details></div>")
        return "".join(parts)

    def to_markdown(self) -> str:
        lines = [f"**{self.title}**", ""]
        for n, q in enumerate(self.questions, 1):
            lines.append(f"{n}. {q.prompt}")
            lines += [f"   - {'ABCDEFG'[i]}. {o}" for i, o in enumerate(q.options)]
        return "\n".join(lines)

    # -- live rendering -------------------------------------------------------------------------
    def widget(self):
        import ipywidgets as w

        rows = [w.HTML(f"<strong>{html.escape(self.title)}</strong>")]
        for n, q in enumerate(self.questions, 1):
            radio = w.RadioButtons(options=[(f"{'ABCDEFG'[i]}. {o}", i) for i, o in enumerate(q.options)],
                                   value=None, layout=w.Layout(width="auto"))
            feedback = w.HTML()
            button = w.Button(description="答え合わせ / Check")

            def check(_, q=q, radio=radio, feedback=feedback):
                if radio.value is None:
                    feedback.value = "選択肢を1つ選んでください。 / Choose one option."
                elif radio.value == q.answer:
                    feedback.value = f"<span style='color:#1a7f37'>正解 / Correct.</span> {html.escape(q.explanation)}"
                else:
                    feedback.value = "<span style='color:#b35900'>もう一度考えてみましょう。 / Not quite; try again.</span>"

            button.on_click(check)
            rows.append(w.VBox([w.HTML(f"<p>{n}. {html.escape(q.prompt)}</p>"), radio, button, feedback]))
        return w.VBox(rows)

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": self.to_markdown(), "text/html": self.to_html()}
        try:
            view = self.widget()._repr_mimebundle_()
        except Exception:  # no widget support in this front end: the static version stands
            return bundle
        if isinstance(view, dict) and "application/vnd.jupyter.widget-view+json" in view:
            bundle["application/vnd.jupyter.widget-view+json"] = view["application/vnd.jupyter.widget-view+json"]
        return bundle
