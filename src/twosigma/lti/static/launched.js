// twosigma's tutor page inside an LMS frame (docs/lti.md, "The launched page"). Plain JavaScript, no build step.
// The tokens live in this closure only: never in localStorage, sessionStorage or a URL.
"use strict";
(() => {
  const API = "/api/v1";
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const offeringId = params.get("offering_id");
  let tokens = null;
  let chatId = null;
  let itemId = null;  // the item shown (its quiz is the one submitted)
  let chatItemId = null;  // the item the conversation is about

  // The code is single use: drop it from the address bar at once (a reload then asks to launch again).
  history.replaceState(null, "", location.pathname);

  const say = (text) => { $("status").textContent = text; };
  const el = (tag, props = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) node.append(child);
    return node;
  };

  async function refresh() {
    const answer = await fetch(API + "/auth/refresh", {
      method: "POST", headers: {"Authorization": "Bearer " + tokens.refresh_token},
    });
    if (!answer.ok) return false;
    tokens = await answer.json();
    return true;
  }

  async function api(path, options = {}, retried = false) {
    const headers = Object.assign({"Authorization": "Bearer " + tokens.access_token}, options.headers || {});
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const answer = await fetch(API + path, Object.assign({}, options, {headers}));
    if (answer.status === 401 && !retried && await refresh()) return api(path, options, true);
    return answer;
  }

  async function problem(answer) {
    try { return (await answer.json()).error.message; } catch (e) { return "Something went wrong (" + answer.status + ")."; }
  }

  // --- The item ---------------------------------------------------------------------------------------------------

  const BODY_FIELDS = ["body", "text", "content", "markdown"];  // a quiz's instructions show with the quiz

  // Shows an item (the launched one, or one a citation names). The conversation stays: it is about the item it
  // started on, and a citation is read beside it.
  async function showItem(id) {
    const answer = await api("/content-items/" + encodeURIComponent(id));
    if (!answer.ok) { say(await problem(answer)); return; }
    const item = await answer.json();
    itemId = item.id;
    if (chatItemId === null) chatItemId = item.id;
    $("item-title").textContent = item.title;
    $("item-description").textContent = item.description || "";
    const goals = $("item-objectives");
    goals.replaceChildren(...(item.learning_objectives || []).map((text) => el("li", {text})));
    goals.hidden = goals.children.length === 0;
    const body = $("item-body");
    body.replaceChildren();
    const data = item.data_json || {};
    for (const name of BODY_FIELDS) {
      if (typeof data[name] === "string" && data[name]) body.append(el("p", {class: "prose", text: data[name]}));
    }
    showQuiz(Array.isArray(data.questions) ? data : null);
    $("item-title").focus();
  }

  function question(q, index) {
    const name = "q-" + index;
    const box = el("fieldset", {class: "question", "data-id": q.id, "data-type": q.type || ""});
    box.append(el("legend", {text: (index + 1) + ". " + (q.prompt || "")}));
    if (q.type === "single_choice" || q.type === "multiple_choice") {
      (q.choices || []).forEach((choice, c) => {
        const id = name + "-" + c;
        const input = el("input", {type: q.type === "single_choice" ? "radio" : "checkbox", id, name, value: String(c)});
        box.append(el("div", {}, input, " ", el("label", {for: id, text: choice})));
      });
    } else {
      const id = name + "-answer";
      const input = el("input", {id, name, type: q.type === "numeric" ? "number" : "text", autocomplete: "off"});
      if (q.type === "numeric") input.setAttribute("step", "any");
      box.append(el("label", {for: id, text: "Your answer"}), " ", input);
    }
    return box;
  }

  function showQuiz(quiz) {
    const form = $("quiz");
    const questions = $("quiz-questions");
    $("quiz-result").replaceChildren();
    if (!quiz) { form.hidden = true; questions.replaceChildren(); return; }
    $("quiz-instructions").textContent = quiz.instructions || "";
    questions.replaceChildren(...quiz.questions.map(question));
    form.hidden = false;
  }

  function answers() {
    const out = {};
    for (const box of document.querySelectorAll("#quiz-questions .question")) {
      const type = box.dataset.type;
      const inputs = [...box.querySelectorAll("input")];
      if (type === "single_choice") {
        const chosen = inputs.find((i) => i.checked);
        if (chosen) out[box.dataset.id] = Number(chosen.value);
      } else if (type === "multiple_choice") {
        out[box.dataset.id] = inputs.filter((i) => i.checked).map((i) => Number(i.value));
      } else if (inputs[0] && inputs[0].value !== "") {
        out[box.dataset.id] = type === "numeric" ? Number(inputs[0].value) : inputs[0].value;
      }
    }
    return out;
  }

  async function submitQuiz(event) {
    event.preventDefault();
    const result = $("quiz-result");
    if (!offeringId) { result.textContent = "Quizzes can be taken from a course link only."; return; }
    const button = $("quiz-submit");
    button.disabled = true;
    try {
      const path = "/offerings/" + encodeURIComponent(offeringId) + "/content-items/" + itemId + "/attempts";
      const answer = await api(path, {method: "POST", body: JSON.stringify({answers: answers()})});
      if (!answer.ok) { result.textContent = await problem(answer); return; }
      const attempt = await answer.json();
      const lines = [el("p", {text: "Attempt " + attempt.attempt_number + ": " + Math.round(attempt.score_percent)
        + "% (" + attempt.points + " of " + attempt.max_points + " points), " + (attempt.passed ? "passed." : "not passed yet.")})];
      if (attempt.attempts_remaining !== null) lines.push(el("p", {text: "Attempts left: " + attempt.attempts_remaining + "."}));
      if (attempt.feedback_released) {
        const list = el("ul");
        for (const r of attempt.results) {
          const text = r.question_id + ": " + (r.correct ? "correct" : "not correct") + (r.feedback ? " — " + r.feedback : "");
          list.append(el("li", {text}));
        }
        lines.push(list);
      } else {
        lines.push(el("p", {text: "Per-question results are released later, as your instructor set."}));
      }
      result.replaceChildren(...lines);
    } finally {
      button.disabled = false;
    }
  }

  // --- The tutor chat ---------------------------------------------------------------------------------------------

  function bubble(role, text) {
    const body = el("div", {class: "text", text});
    const node = el("li", {class: "message " + role}, el("span", {class: "who", text: role === "user" ? "You" : "Tutor"}), body);
    $("messages").append(node);
    node.scrollIntoView({block: "end"});
    return node;
  }

  function citations(node, meta) {
    const cited = (meta && Array.isArray(meta.citations)) ? meta.citations.filter((c) => c && c.content_item_id) : [];
    if (cited.length === 0) return;
    const list = el("ol", {class: "citations", "aria-label": "Sources"});
    for (const c of cited) {
      const link = el("a", {href: "#item", "data-item": String(c.content_item_id), text: "[" + (c.n ?? "") + "] " + (c.title || "Item " + c.content_item_id)});
      link.addEventListener("click", (event) => { event.preventDefault(); showItem(c.content_item_id); });
      const entry = el("li", {}, link);
      if (c.snippet) entry.append(el("span", {class: "snippet", text: " — " + c.snippet}));
      list.append(entry);
    }
    node.append(list);
  }

  async function* events(answer) {
    const reader = answer.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true}).replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield {name, data: JSON.parse(data.join("\n"))};
      }
    }
  }

  async function send(event) {
    event.preventDefault();
    const input = $("chat-input");
    const text = input.value.trim();
    if (!text) return;
    const button = $("chat-send");
    button.disabled = true;
    const reply = $("reply-live");
    try {
      if (chatId === null) {
        const created = await api("/chat/sessions", {method: "POST", body: JSON.stringify({content_item_id: chatItemId})});
        if (!created.ok) { say(await problem(created)); return; }
        chatId = (await created.json()).id;
      }
      bubble("user", text);
      input.value = "";
      const node = bubble("assistant", "");
      const body = node.querySelector(".text");
      node.setAttribute("aria-busy", "true");
      reply.setAttribute("aria-busy", "true");
      reply.textContent = "";
      const answer = await api("/chat/sessions/" + chatId + "/messages", {
        method: "POST", body: JSON.stringify({content: text}), headers: {"Accept": "text/event-stream"},
      });
      if (!answer.ok) { body.textContent = await problem(answer); return; }
      for await (const {name, data} of events(answer)) {
        if (name === "delta") { body.textContent += data.text; node.scrollIntoView({block: "end"}); }
        else if (name === "message.completed") { body.textContent = data.content; citations(node, data.meta); }
        else if (name === "error") { body.textContent = data.message + (data.assistant_message ? "\n" + data.assistant_message.content : ""); }
      }
      node.removeAttribute("aria-busy");
      reply.textContent = "Tutor: " + body.textContent;  // what a screen reader announces, once complete
    } catch (e) {
      say("The connection was lost; try again.");
    } finally {
      reply.setAttribute("aria-busy", "false");
      button.disabled = false;
      input.focus();
    }
  }

  // --- Start ------------------------------------------------------------------------------------------------------

  async function start() {
    const answer = await fetch(API + "/auth/lti/exchange", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({code: params.get("code") || ""}),
    });
    if (!answer.ok) { say("This launch has expired: open the link from your course again."); return; }
    tokens = await answer.json();
    say("You are signed in.");
    $("quiz").addEventListener("submit", submitQuiz);
    $("chat").addEventListener("submit", send);
    $("chat-input").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("chat").requestSubmit(); }
    });
    const item = params.get("content_item_id");
    if (item) { await showItem(item); } else { $("item-title").textContent = "Ask the tutor"; }
    $("chat").hidden = false;
  }

  start().catch(() => say("This page could not start; open the link from your course again."));
})();
