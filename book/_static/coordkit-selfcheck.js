// Self-checks in the web book (coordkit.book.selfcheck renders the form): checked in the browser, no
// kernel. Each question's fieldset carries its kind and its key (option indexes, or the normalised
// accepted answers); typed answers are compared as coordkit.book.selfcheck.normalise compares them.
(() => {
  const RIGHT = "正解 / Correct.";
  const WRONG = "もう一度考えてみましょう。 / Not quite; try again.";
  const EMPTY = "答えを選ぶか、入力してください。 / Choose or type an answer first.";
  const normalise = (text) => text.normalize("NFKC").toLowerCase().replace(/\s+/gu, "");
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  const check = (fieldset) => {
    const kind = fieldset.dataset.kind;
    const key = JSON.parse(fieldset.dataset.key);
    const feedback = fieldset.querySelector(".coordkit-feedback");
    const explanation = fieldset.querySelector(".coordkit-explanation");
    let given;
    if (kind === "text") {
      const value = normalise(fieldset.querySelector("input[type=text]").value);
      given = value ? [value] : [];
    } else {
      given = [...fieldset.querySelectorAll("input:checked")].map((i) => Number(i.value)).sort((a, b) => a - b);
    }
    if (!given.length) {
      feedback.textContent = EMPTY;
      feedback.className = "coordkit-feedback";
      return;
    }
    const right = kind === "text" ? key.includes(given[0]) : same(given, key);
    feedback.textContent = right ? RIGHT : WRONG;
    feedback.className = "coordkit-feedback " + (right ? "coordkit-right" : "coordkit-wrong");
    if (explanation) explanation.hidden = !right;
  };

  const wire = () => {
    document.querySelectorAll(".coordkit-selfcheck fieldset.coordkit-q").forEach((fieldset) => {
      const button = fieldset.querySelector(".coordkit-check");
      if (!button || button.dataset.wired) return;
      button.dataset.wired = "1";
      button.addEventListener("click", () => check(fieldset));
      const text = fieldset.querySelector("input[type=text]");
      if (text) text.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); check(fieldset); } });
    });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
