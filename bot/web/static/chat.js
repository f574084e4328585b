// The web chat page: pick an account, send text or tapped choices, poll for new messages.
// The transcript is also kept in localStorage, so a reload or a server restart shows it again.
// On a phone the chat fits the screen: the log takes what is left and the dock (choices, quick
// commands, input) stays in view; messages sent while one is on its way wait their turn.
(function () {
  "use strict";
  const root = document.getElementById("chat");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const picker = $("account"), log = $("log"), choicesBox = $("choices"), statusLine = $("status");
  let account = localStorage.getItem("chat.account") || "";
  let roles = {};  // account id → its role ("village_head", "staff", "admin" or "" when unbound)
  let state = { boot: "", last: 0, messages: [] };
  let busy = false;
  let queue = Promise.resolve();

  function fit() {  // the chat fills the window below the header: the input is never below the fold
    const top = root.getBoundingClientRect().top + window.scrollY;
    root.style.height = Math.max(360, window.innerHeight - top - 8) + "px";
  }

  function load() {
    try { state = JSON.parse(localStorage.getItem("chat.t." + account)) || state; } catch (e) { /* fresh */ }
    if (!state.messages) state = { boot: "", last: 0, messages: [] };
  }
  function save() { localStorage.setItem("chat.t." + account, JSON.stringify(state)); }
  function setStatus(text) { statusLine.textContent = text || ""; statusLine.hidden = !text; }

  function render() {
    log.replaceChildren();
    for (const m of state.messages) {
      const div = document.createElement("div");
      div.className = "msg " + (m.from === "user" ? "me" : "bot");
      div.textContent = m.text;
      if (m.file) {
        const a = document.createElement("a");
        a.href = m.file.url; a.textContent = m.file.label; a.className = "file"; a.download = m.file.name;
        div.appendChild(document.createElement("br")); div.appendChild(a);
      }
      log.appendChild(div);
    }
    choicesBox.replaceChildren();
    const last = state.messages[state.messages.length - 1];
    if (last && last.from === "bot") {
      for (const c of last.choices || []) {
        const b = document.createElement("button");
        b.type = "button"; b.className = "choice"; b.textContent = c.label;
        b.addEventListener("click", () => send({ choice: c.value, label: c.label }));
        choicesBox.appendChild(b);
      }
    }
    root.classList.toggle("picked", !!account);
    const role = roles[account] || "";
    for (const b of document.querySelectorAll("button.quick")) {  // only the commands this account may use
      b.hidden = !!b.dataset.roles && !b.dataset.roles.split(" ").includes(role);
    }
    log.scrollTop = log.scrollHeight;
    fit();
    window.scrollTo(0, document.documentElement.scrollHeight);
  }

  function merge(data) {
    if (data.boot !== state.boot) {
      if (state.boot) setStatus(root.dataset.restarted);
      state.boot = data.boot; state.last = 0;
    }
    for (const m of data.messages) {
      if (m.seq <= state.last) continue;
      state.messages.push({ from: m.from, text: m.text, choices: m.choices, file: m.file });
      state.last = m.seq;
    }
    state.messages = state.messages.slice(-200);
    save(); render();
  }

  async function api(path, body) {
    const opts = body === undefined ? {} : {
      method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    };
    const r = await fetch(path, Object.assign({ credentials: "same-origin" }, opts));
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  }

  async function upload(file, messageId) {  // the photo's bytes as the body
    const r = await fetch("/chat/api/photo?since=0&account=" + encodeURIComponent(account) + "&message_id="
      + encodeURIComponent(messageId), { method: "POST", body: file, credentials: "same-origin",
      headers: { "Content-Type": "application/octet-stream", "X-CSRF-Token": csrf } });
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  }

  async function poll() {
    if (!account || busy) return;
    try {
      const since = state.last;
      const data = await api("/chat/api/messages?account=" + encodeURIComponent(account) + "&since=" + since);
      if (statusLine.textContent === root.dataset.offline) setStatus("");
      merge(data);
    } catch (e) { setStatus(root.dataset.offline); }
  }

  function send(msg) {  // in order, one at a time
    if (!account) { askToPick(); return queue; }
    queue = queue.then(() => deliver(msg));
    return queue;
  }

  function askToPick() { setStatus(root.dataset.pickfirst); picker.focus(); }

  async function deliver(msg) {
    if (!account) return;
    busy = true;
    const body = Object.assign({ account: account, message_id: crypto.randomUUID ? crypto.randomUUID()
      : String(Date.now()) + Math.random() }, msg);
    choicesBox.replaceChildren();
    try {
      let since = state.last;
      // after a restart the server counts from 1 again: ask for everything of the new boot
      const data = msg.photo ? await upload(msg.photo, body.message_id) : await api("/chat/api/send?since=0", body);
      if (data.boot === state.boot) { data.messages = data.messages.filter((m) => m.seq > since); }
      merge(data);
    } catch (e) { setStatus(root.dataset.offline); render(); }
    finally { busy = false; }
  }

  async function refreshAccounts(list) {
    if (!list) list = (await api("/chat/api/accounts")).accounts;
    picker.replaceChildren(new Option(root.dataset.pick, ""));
    roles = {};
    for (const a of list) { picker.appendChild(new Option(a.label, a.id)); roles[a.id] = a.role || ""; }
    picker.value = list.some((a) => a.id === account) ? account : "";
    if (!picker.value) account = "";
  }

  async function choose(id) {
    account = id; localStorage.setItem("chat.account", id);
    state = { boot: "", last: 0, messages: [] }; load(); setStatus(""); render();
    if (!id) return;
    await poll();
    // a greeting and the menu for an account with no conversation yet
    if (account === id && state.messages.length === 0) send({ text: "/start", greet: true });
  }

  picker.addEventListener("change", () => choose(picker.value));
  $("new-account").addEventListener("click", async () => {
    const data = await api("/chat/api/accounts", {});
    await refreshAccounts(data.accounts); picker.value = data.id; choose(data.id);
  });
  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = $("text"), text = input.value.trim();
    if (!account) { askToPick(); return; }  // the text stays in the box
    if (text) { input.value = ""; send({ text: text }); }
  });
  $("photo").addEventListener("change", (ev) => {
    const file = ev.target.files && ev.target.files[0];
    ev.target.value = "";
    if (!account) { askToPick(); return; }
    if (file) send({ photo: file });
  });
  for (const b of document.querySelectorAll("button.quick")) {
    b.addEventListener("click", () => send({ text: b.dataset.text }));
  }
  refreshAccounts().then(() => { load(); render(); poll(); }).catch(() => setStatus(root.dataset.offline));
  setInterval(poll, 2000);
  window.addEventListener("resize", fit);
  fit();
})();
