"""Self-checks for book pages, in four kinds: one choice (`Question`), several choices
(`MultiSelect`), true or false (`TrueFalse`) and a typed short answer (`ShortAnswer`).

One object serves every place a trainee meets it. Its display bundle carries
- a widget view (ipywidgets) that JupyterLab shows, checked in the trainee's own kernel, and
- an HTML form that the web book shows (the HTML build skips the widget view, see
  nb_mime_priority_overrides in _config.yml). The form is checked in the browser by
  book/_static/coordkit-selfcheck.js, with no kernel; without JavaScript the answers stay folded in a
  <details> block below the questions.
The self-check is practice, not assessment: its answers are in the page on purpose."""

from __future__ import annotations

import html
import json
import unicodedata
from dataclasses import dataclass

LETTERS = "ABCDEFGHIJ"
CHECK = "答え合わせ / Check"
RIGHT = "正解 / Correct."
WRONG = "もう一度考えてみましょう。 / Not quite; try again."
EMPTY = "答えを選ぶか、入力してください。 / Choose or type an answer first."
TRUE_FALSE = ("正しい / True", "誤り / False")


def normalise(text: str) -> str:
    """The form in which typed answers are compared: full-width and half-width alike (NFKC),
    case and spaces ignored, so 「１４日」, "14 日" and "14日" are the same answer."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(ch for ch in text if not ch.isspace())


@dataclass(frozen=True)
class Question:
    """One right option among `options` (`answer` is its index, counted from 0)."""
    prompt: str
    options: tuple[str, ...]
    answer: int
    explanation: str = ""
    kind = "choice"

    def validate(self) -> None:
        if len(self.options) < 2:
            raise ValueError(f"a question needs at least two options: {self.prompt!r}")
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"answer index {self.answer} is out of range for {self.prompt!r}")

    def correct(self, response) -> bool:
        return response == self.answer

    def answer_text(self) -> str:
        return f"{LETTERS[self.answer]}: {self.options[self.answer]}"

    def choices(self) -> tuple[str, ...]:
        return tuple(self.options)


@dataclass(frozen=True)
class MultiSelect:
    """Every right option must be chosen, and no other (`answers`: their indexes)."""
    prompt: str
    options: tuple[str, ...]
    answers: tuple[int, ...]
    explanation: str = ""
    kind = "multi"

    def validate(self) -> None:
        if len(self.options) < 3:
            raise ValueError(f"a several-choice question needs at least three options: {self.prompt!r}")
        if not self.answers or any(not 0 <= a < len(self.options) for a in self.answers):
            raise ValueError(f"answers {self.answers} are empty or out of range for {self.prompt!r}")
        if len(set(self.answers)) != len(self.answers):
            raise ValueError(f"answers {self.answers} repeat an option in {self.prompt!r}")

    def correct(self, response) -> bool:
        return set(response or ()) == set(self.answers)

    def answer_text(self) -> str:
        return "、".join(f"{LETTERS[a]}: {self.options[a]}" for a in sorted(self.answers))

    def choices(self) -> tuple[str, ...]:
        return tuple(self.options)


@dataclass(frozen=True)
class TrueFalse:
    """A statement the trainee marks as true or false."""
    prompt: str
    answer: bool
    explanation: str = ""
    kind = "truefalse"

    def validate(self) -> None:
        if not isinstance(self.answer, bool):
            raise ValueError(f"a true/false answer must be True or False: {self.prompt!r}")

    def correct(self, response) -> bool:
        return response == (0 if self.answer else 1)

    def answer_text(self) -> str:
        return TRUE_FALSE[0 if self.answer else 1]

    def choices(self) -> tuple[str, ...]:
        return TRUE_FALSE


@dataclass(frozen=True)
class ShortAnswer:
    """A typed answer; any of `accepted` is right once both are normalised (see `normalise`)."""
    prompt: str
    accepted: tuple[str, ...]
    explanation: str = ""
    placeholder: str = ""
    kind = "text"

    def validate(self) -> None:
        if not self.accepted or not all(normalise(a) for a in self.accepted):
            raise ValueError(f"a short answer needs at least one non-empty accepted answer: {self.prompt!r}")

    def correct(self, response) -> bool:
        return normalise(response or "") in {normalise(a) for a in self.accepted}

    def answer_text(self) -> str:
        return self.accepted[0]

    def choices(self) -> tuple[str, ...]:
        return ()


KINDS = (Question, MultiSelect, TrueFalse, ShortAnswer)


def _key(q) -> list:
    """What the browser compares with: option indexes, or the normalised accepted answers."""
    if isinstance(q, ShortAnswer):
        return sorted({normalise(a) for a in q.accepted})
    if isinstance(q, MultiSelect):
        return sorted(q.answers)
    if isinstance(q, TrueFalse):
        return [0 if q.answer else 1]
    return [q.answer]


class SelfCheck:
    _count = 0

    def __init__(self, title: str, questions: list):
        if len(questions) < 1:
            raise ValueError("a self-check needs at least one question")
        for q in questions:
            if not isinstance(q, KINDS):
                raise TypeError(f"{q!r} is not a self-check question (use {', '.join(k.__name__ for k in KINDS)})")
            q.validate()
        self.title = title
        self.questions = list(questions)
        SelfCheck._count += 1
        self.uid = f"ck-selfcheck-{SelfCheck._count}"

    # -- static rendering (the web book) --------------------------------------------------------
    def to_html(self) -> str:
        esc = html.escape
        parts = [f'<div class="coordkit-selfcheck" id="{self.uid}"><p><strong>{esc(self.title)}</strong></p><ol>']
        for n, q in enumerate(self.questions, 1):
            name = f"{self.uid}-q{n}"
            key = esc(json.dumps(_key(q), ensure_ascii=False), quote=True)
            parts.append(f'<li><fieldset class="coordkit-q" data-kind="{q.kind}" data-key="{key}">'
                         f'<legend><p>{esc(q.prompt)}</p></legend>')
            if isinstance(q, ShortAnswer):
                hint = f' placeholder="{esc(q.placeholder, quote=True)}"' if q.placeholder else ""
                parts.append(f'<label>答え / Answer <input type="text" name="{name}"{hint}></label>')
            else:
                kind = "checkbox" if isinstance(q, MultiSelect) else "radio"
                opts = []
                for i, o in enumerate(q.choices()):
                    label = esc(o) if isinstance(q, TrueFalse) else f"{LETTERS[i]}. {esc(o)}"
                    opts.append(f'<li><label><input type="{kind}" name="{name}" value="{i}"> {label}</label></li>')
                if isinstance(q, MultiSelect):
                    parts.append("<p class=\"coordkit-q-note\">当てはまるものをすべて選んでください。 / Choose all that apply.</p>")
                parts.append(f'<ol class="coordkit-options" type="A">{"".join(opts)}</ol>')
            parts.append(f'<button type="button" class="coordkit-check">{CHECK}</button>'
                         f'<p class="coordkit-feedback" role="status" aria-live="polite"></p>')
            if q.explanation:
                parts.append(f'<p class="coordkit-explanation" hidden>{esc(q.explanation)}</p>')
            parts.append("</fieldset></li>")
        parts.append("</ol><details><summary>答えと解説 / Answers</summary><ol>")
        for q in self.questions:
            explanation = f"<br/>{esc(q.explanation)}" if q.explanation else ""
            parts.append(f"<li><strong>{esc(q.answer_text())}</strong>{explanation}</li>")
        parts.append("</ol></details></div>")
        return "".join(parts)

    def to_markdown(self) -> str:
        lines = [f"**{self.title}**", ""]
        for n, q in enumerate(self.questions, 1):
            lines.append(f"{n}. {q.prompt}")
            lines += [f"   - {LETTERS[i]}. {o}" for i, o in enumerate(q.choices())]
        return "\n".join(lines)

    # -- live rendering (JupyterLab) -------------------------------------------------------------
    def widget(self):
        import ipywidgets as w

        rows = [w.HTML(f"<strong>{html.escape(self.title)}</strong>")]
        for n, q in enumerate(self.questions, 1):
            if isinstance(q, ShortAnswer):
                control = w.Text(placeholder=q.placeholder or "答え / Answer")
                read = lambda c=control: c.value.strip() or None
            elif isinstance(q, MultiSelect):
                boxes = [w.Checkbox(description=f"{LETTERS[i]}. {o}", value=False, indent=False,
                                    layout=w.Layout(width="auto")) for i, o in enumerate(q.options)]
                control = w.VBox(boxes)
                read = lambda b=boxes: tuple(i for i, box in enumerate(b) if box.value) or None
            else:
                labels = q.choices() if isinstance(q, TrueFalse) else [f"{LETTERS[i]}. {o}" for i, o in enumerate(q.options)]
                control = w.RadioButtons(options=[(label, i) for i, label in enumerate(labels)], value=None,
                                         layout=w.Layout(width="auto"))
                read = lambda c=control: c.value
            feedback = w.HTML()
            button = w.Button(description=CHECK)

            def check(_, q=q, read=read, feedback=feedback):
                response = read()
                if response is None:
                    feedback.value = EMPTY
                elif q.correct(response):
                    feedback.value = f"<span style='color:#1a7f37'>{RIGHT}</span> {html.escape(q.explanation)}"
                else:
                    feedback.value = f"<span style='color:#b35900'>{WRONG}</span>"

            button.on_click(check)
            rows.append(w.VBox([w.HTML(f"<p>{n}. {html.escape(q.prompt)}</p>"), control, button, feedback]))
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
