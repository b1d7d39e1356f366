// The demo page: instant-client's IIFE bundle ($instant) driving the channel cards.
(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("page-config").textContent);
  const instant = new $instant.Instant({ websockets: config.websockets }); // Django: this origin
  const statusLog = []; // every connection state change, for whoever wants to look (the browser tests do)
  window.demo = { instant, statusLog };

  const $ = (selector) => document.querySelector(selector);
  const cards = new Map();

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) node.append(child);
    return node;
  }

  // ---- channel cards: every active channel, granted or not ----
  for (const channel of config.channels) {
    const state = el("span", { class: "sub-state" }, "not granted");
    const list = el("ul", { class: "messages" });
    const card = el(
      "article",
      { class: "channel", "data-channel": channel.name, "data-state": "not-granted" },
      el("h2", {}, channel.name, " ", el("small", {}, channel.level)),
      state,
      list,
    );
    cards.set(channel.name, { card, state, list });
    $("#channels").append(card);
    $("#publish-channel").append(el("option", { value: channel.name }, channel.name));
  }
  for (const eventClass of config.eventClasses) {
    $("#publish-event-class").append(el("option", { value: eventClass }, eventClass || "(no event_class)"));
  }

  function showGranted() {
    const granted = new Set(instant.channels.map((c) => c.name));
    for (const [name, { card, state }] of cards) {
      if (!granted.has(name)) {
        card.dataset.state = "not-granted";
        state.textContent = "not granted";
      } else if (card.dataset.state === "not-granted") {
        card.dataset.state = "granted";
        state.textContent = "granted";
      }
    }
  }

  // ---- instant events ----
  instant.onStatus(({ state, code, reason }) => {
    statusLog.push(state);
    const status = $("#status");
    status.dataset.state = state;
    status.textContent = state === "connected" ? "connected" : reason ? `${state} (${reason})` : state;
    if (state === "connected") hideError();
  });

  instant.onChannelStatus((event) => {
    const entry = cards.get(event.channel);
    if (!entry) return;
    entry.card.dataset.state = event.state;
    let text = event.state;
    if (event.state === "subscribed" && event.wasRecovering) text += event.recovered ? " (missed messages recovered)" : " (could not recover everything)";
    entry.state.textContent = text;
  });

  instant.onMessage((msg) => {
    const entry = cards.get(msg.channel);
    if (!entry) return;
    const item = el(
      "li",
      { "data-message": msg.message, "data-event-class": msg.eventClass },
      el("time", {}, msg.date.toLocaleTimeString()),
      msg.eventClass ? el("span", { class: `event ${msg.eventClass}` }, msg.eventClass) : "",
      el("span", { class: "text" }, msg.message || "(no message)"),
      Object.keys(msg.data).length ? el("code", {}, JSON.stringify(msg.data)) : "",
    );
    entry.list.prepend(item);
    while (entry.list.children.length > 50) entry.list.lastChild.remove();
  });

  instant.onEvent("important", (msg) => {
    const box = $("#important");
    box.textContent = `important on ${msg.channel}: ${msg.message}`;
    box.hidden = false;
  });

  instant.onError((error) => showError(error.message));

  function showError(message) {
    const box = $("#error");
    box.textContent = message;
    box.hidden = false;
  }
  function hideError() {
    $("#error").hidden = true;
  }

  // ---- session ----
  async function showSession() {
    const user = instant.user;
    $("#login-form").hidden = !!user;
    $("#who").hidden = !user;
    $("#user").textContent = user || "";
    let staff = false;
    if (user) {
      const me = await fetch("/demo/me/", { credentials: "same-origin" }).then((r) => r.json());
      staff = me.is_staff;
    }
    $("#publish-form").hidden = !staff;
    document.body.dataset.user = user || "anonymous";
  }

  async function connect() {
    try {
      await instant.connect();
      hideError();
    } catch (error) {
      showError(error.message);
    }
    showGranted();
    await showSession();
  }

  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await instant.login($("#username").value, $("#password").value);
      $("#password").value = "";
    } catch (error) {
      showError(error.message);
      return;
    }
    await connect();
  });

  $("#logout").addEventListener("click", async () => {
    try {
      await instant.logout();
    } catch (error) {
      showError(error.message);
    }
    await connect(); // as an anonymous visitor
  });

  $("#publish-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = $("#publish-result");
    result.textContent = "…";
    const response = await fetch("/demo/publish/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": instant.csrfToken },
      body: JSON.stringify({
        channel: $("#publish-channel").value,
        message: $("#publish-message").value,
        event_class: $("#publish-event-class").value,
      }),
    });
    const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    result.textContent = response.ok ? "published" : body.error;
    result.dataset.ok = String(response.ok);
    if (response.ok) $("#publish-message").value = "";
  });

  connect();
})();
