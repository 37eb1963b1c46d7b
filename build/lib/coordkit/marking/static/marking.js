// The marking page: one written answer at a time, marked with the keyboard alone.
// A trainee's answer is set with textContent only; course texts (case, question, model answer)
// arrive as HTML rendered on the server from the course's own Markdown with raw HTML escaped.
(() => {
  const base = document.body.dataset.base;
  const $ = (id) => document.getElementById(id);
  const state = { queue: [], index: 0, answer: null, active: 0 };

  const xsrf = () => document.body.dataset.xsrf || decodeURIComponent((document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/) || [])[1] || "");
  const api = async (path, options = {}) => {
    const response = await fetch(`${base}/api/${path}`, {
      credentials: "same-origin", ...options,
      headers: { "Content-Type": "application/json", "X-XSRFToken": xsrf(), ...(options.headers || {}) },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || `${response.status} ${response.statusText}`);
    return body;
  };

  const progress = (done, total) => {
    $("progress").textContent = `${state.marker} さんの担当: ${done} / ${total} 件 採点済み (done/total)`;
  };

  const criteria = () => [...document.querySelectorAll("fieldset.criterion")];
  const activate = (i) => {
    const all = criteria();
    if (!all.length) return;
    state.active = Math.max(0, Math.min(i, all.length - 1));
    all.forEach((f, n) => f.classList.toggle("active", n === state.active));
    all[state.active].scrollIntoView({ block: "nearest" });
  };
  const total = () => {
    let sum = 0, chosen = 0;
    criteria().forEach((f) => { const c = f.querySelector("input:checked"); if (c) { sum += Number(c.value); chosen += 1; } });
    $("total").textContent = `合計 ${sum} / ${state.answer.points} 点（${chosen}/${criteria().length} 観点）`;
  };

  const render = (a) => {
    state.answer = a;
    $("q-title").textContent = `${a.title} — ${a.question}`;
    $("answer-id").textContent = `回答 ${a.id}`;
    $("question-id").textContent = a.assignment;
    $("points").textContent = `${a.points} 点`;
    $("case-body").innerHTML = a.case_html;
    $("prompt").innerHTML = a.prompt_html;
    $("answer").textContent = a.answer.trim() ? a.answer : "（回答なし / no answer）";
    $("model-body").innerHTML = a.model_answer_html;
    $("model").open = false;
    const form = $("rubric");
    form.replaceChildren();
    a.criteria.forEach((c, ci) => {
      const fs = document.createElement("fieldset");
      fs.className = "criterion";
      const legend = document.createElement("legend");
      legend.textContent = `${ci + 1}. ${c.ja}`;
      legend.title = c.en;
      fs.append(legend);
      c.levels.forEach((lv, li) => {
        const label = document.createElement("label");
        const input = document.createElement("input");
        input.type = "radio"; input.name = c.id; input.value = lv.points;
        if (a.mine && a.mine.levels[c.id] === lv.points) input.checked = true;
        input.addEventListener("change", () => { activate(ci); total(); });
        const key = document.createElement("kbd");
        key.textContent = String(li);
        label.append(input, " ", key, ` ${lv.points} 点: ${lv.ja}`);
        label.title = lv.en;
        fs.append(label);
      });
      form.append(fs);
    });
    $("comment").value = a.mine ? a.mine.comment : "";
    $("message").textContent = a.mine ? `前回の採点を表示しています（${a.mine.at}）。` : "";
    $("main").hidden = false;
    activate(0);
    total();
  };

  const open = async (i) => {
    if (!state.queue.length) { $("message").textContent = "担当の回答はありません。"; return; }
    state.index = (i + state.queue.length) % state.queue.length;
    const id = state.queue[state.index].id;
    history.replaceState(null, "", `#${id}`);
    render(await api(`answer/${id}`));
  };

  const choose = (levelIndex) => {
    const fs = criteria()[state.active];
    if (!fs) return;
    const inputs = fs.querySelectorAll("input");
    if (levelIndex >= inputs.length) return;
    inputs[levelIndex].checked = true;
    total();
    activate(state.active + 1);
  };

  const save = async () => {
    const levels = {};
    const missing = [];
    state.answer.criteria.forEach((c) => {
      const checked = document.querySelector(`input[name="${CSS.escape(c.id)}"]:checked`);
      if (checked) levels[c.id] = Number(checked.value); else missing.push(c.ja);
    });
    if (missing.length) { $("message").textContent = `水準を選んでいない観点があります: ${missing.join("、")}`; return; }
    $("save").disabled = true;
    try {
      const r = await api(`answer/${state.answer.id}`, {
        method: "POST", body: JSON.stringify({ levels, comment: $("comment").value, sha: state.answer.sha }),
      });
      state.queue[state.index].done = true;
      progress(r.done, r.total);
      if (r.next) await open(state.queue.findIndex((q) => q.id === r.next));
      else $("message").textContent = "担当の回答をすべて採点しました。 / All your answers are marked.";
    } catch (e) {
      $("message").textContent = `保存できませんでした: ${e.message}`;
    } finally {
      $("save").disabled = false;
    }
  };

  document.addEventListener("keydown", (e) => {
    const inText = e.target.tagName === "TEXTAREA";
    if (inText) {
      if (e.key === "Escape") { e.target.blur(); e.preventDefault(); }
      else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); save(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (/^[0-9]$/.test(e.key)) { e.preventDefault(); choose(Number(e.key)); }
    else if (e.key === "ArrowDown" || e.key === "j") { e.preventDefault(); activate(state.active + 1); }
    else if (e.key === "ArrowUp" || e.key === "k") { e.preventDefault(); activate(state.active - 1); }
    else if (e.key === "Enter") { e.preventDefault(); save(); }
    else if (e.key === "c") { e.preventDefault(); $("comment").focus(); }
    else if (e.key === "m") { $("model").open = !$("model").open; }
    else if (e.key === "n") { open(state.index + 1); }
    else if (e.key === "p") { open(state.index - 1); }
  });
  $("save").addEventListener("click", save);
  $("next").addEventListener("click", () => open(state.index + 1));
  $("prev").addEventListener("click", () => open(state.index - 1));

  (async () => {
    try {
      const q = await api("queue");
      state.marker = q.marker;
      state.queue = q.answers;
      progress(q.done, q.total);
      const wanted = location.hash.slice(1);
      let start = state.queue.findIndex((a) => a.id === wanted);
      if (start < 0) start = Math.max(0, state.queue.findIndex((a) => !a.done));
      await open(start);
    } catch (e) {
      $("progress").textContent = `読み込めませんでした: ${e.message}`;
    }
  })();
})();
