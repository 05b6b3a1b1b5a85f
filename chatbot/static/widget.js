/* Shop desk chat widget: plain JavaScript, no build step, no dependencies.
 *
 * A shop adds one tag to any page:
 *   <script src="https://desk.example.com/widget.js" data-key="pk_live_..."
 *           data-customer-token="<token minted by the shop's backend, or omit>" defer></script>
 *
 * Optional data attributes: data-title, data-greeting (both default to the shop profile's
 * name and greeting), data-accent (a CSS colour),
 * data-font (a CSS font-family), data-position ("right" | "left"), data-source-url
 * (a link template such as "https://shop.example/help/{doc_id}"), data-open ("true"),
 * data-poll-ms (how often to look for replies from a person if the live stream is down;
 * default 4000).
 *
 * A person's replies and the hand-off's state (waiting, with the expected wait or, outside
 * business hours, when someone will answer and a field for an e-mail address; joined;
 * resolved, with a 1-5 rating) arrive live from /v1/conversations/{id}/live (server-sent
 * events read with fetch, so the widget key and customer token go along as headers).
 *
 * Everything renders inside a shadow root, so the page's styles and the widget's never mix.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || window.__shopdeskWidget) return;
  window.__shopdeskWidget = true;

  var data = script.dataset;
  var api = (data.api || new URL(script.src, location.href).origin).replace(/\/$/, "");
  var BUSY_RETRIES = 3;  // a 503 (every answer slot taken) is retried after its Retry-After
  // The shop profile's defaults (name, greeting), filled in by the desk when it serves this file.
  var SHOP = {}; /* shop-defaults */
  var cfg = {
    key: data.key || "",
    token: data.customerToken || "",
    title: data.title || SHOP.title || "Chat with us",
    greeting: data.greeting || SHOP.greeting || "Hi! Ask me about orders, returns, shipping or products.",
    accent: data.accent || "#1c7ed6",
    font: data.font || "system-ui, -apple-system, 'Segoe UI', sans-serif",
    position: data.position === "left" ? "left" : "right",
    sourceUrl: data.sourceUrl || "",
    pollMs: Math.max(1000, parseInt(data.pollMs || "4000", 10) || 4000)
  };

  // The conversation is kept per shopper: a different signed-in customer on the same
  // browser must never see the previous one's chat. The token's customer id is only read
  // here to pick the storage slot; the server checks the signature.
  function customerOf(token) {
    try { return String(JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).customer_id); }
    catch (e) { return "anon"; }
  }
  var storageKey = "shopdesk:v1:" + api + ":" + (cfg.token ? customerOf(cfg.token) : "anon");
  var saved = load();

  function load() {
    try { return JSON.parse(localStorage.getItem(storageKey)) || fresh(); } catch (e) { return fresh(); }
  }
  function fresh() { return { conversationId: null, messages: [], lastAgentId: 0, cursor: "" }; }
  function save() {
    saved.messages = saved.messages.slice(-60);
    try { localStorage.setItem(storageKey, JSON.stringify(saved)); } catch (e) { /* private mode */ }
  }

  var host = document.createElement("div");
  host.id = "shopdesk-widget";
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" +
    ":host{all:initial;--sd-accent:" + cfg.accent + ";--sd-font:" + cfg.font + "}" +
    "*{box-sizing:border-box;font-family:var(--sd-font)}" +
    ".bubble{position:fixed;bottom:20px;" + cfg.position + ":20px;width:56px;height:56px;border-radius:50%;" +
    "border:0;background:var(--sd-accent);color:#fff;cursor:pointer;z-index:2147483000;display:grid;place-items:center;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    ".panel{position:fixed;bottom:88px;" + cfg.position + ":20px;width:min(380px,calc(100vw - 40px));" +
    "height:min(560px,calc(100vh - 120px));display:flex;flex-direction:column;background:#fff;color:#1f2933;" +
    "border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.25);overflow:hidden;z-index:2147483000;font-size:14px}" +
    ".panel[hidden]{display:none}" +
    "header{display:flex;align-items:center;justify-content:space-between;padding:12px 14px;background:var(--sd-accent);color:#fff}" +
    "header h2{font-size:15px;margin:0}" +
    "button{font:inherit;cursor:pointer}" +
    ".close{background:transparent;border:0;color:#fff;font-size:20px;line-height:1}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f8fafc}" +
    ".msg{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;line-height:1.4}" +
    ".user{align-self:flex-end;background:var(--sd-accent);color:#fff}" +
    ".bot,.agent{align-self:flex-start;background:#fff;border:1px solid #e5e7eb}" +
    ".agent{border-color:#2f9e44}.who{display:block;font-size:11px;color:#2f9e44;font-weight:600}" +
    ".error{border-color:#e03131;color:#c92a2a}" +
    ".sources{margin:6px 0 0;padding:6px 0 0 18px;border-top:1px solid #eef0f2;font-size:12px;color:#52606d}" +
    ".sources a{color:var(--sd-accent)}" +
    ".offer{align-self:stretch;border:2px dashed #f08c00;background:#fff9db;border-radius:12px;padding:10px 12px}" +
    ".offer strong{display:block;margin-bottom:4px}.offer .terms{font-size:12px;color:#52606d;margin-top:4px}" +
    ".code{display:flex;gap:8px;align-items:center;margin-top:6px}" +
    ".code code{font-size:15px;background:#fff;border:1px solid #f0c36d;border-radius:6px;padding:3px 8px;letter-spacing:.5px}" +
    ".copy{border:1px solid #f08c00;background:#fff;color:#a35d00;border-radius:6px;padding:3px 8px}" +
    ".note{align-self:center;font-size:12px;color:#52606d;text-align:center}" +
    ".handoff{padding:8px 12px;border-top:1px solid #e5e7eb;background:#f1f8ff;font-size:13px;display:flex;flex-direction:column;gap:6px}" +
    ".handoff[hidden]{display:none}.handoff p{margin:0}" +
    ".handoff .row{display:flex;gap:6px}.handoff input,.handoff textarea{flex:1;font:inherit;font-size:13px;padding:5px 8px;border:1px solid #cbd5e1;border-radius:8px}" +
    ".handoff button{border:1px solid var(--sd-accent);background:#fff;color:var(--sd-accent);border-radius:8px;padding:4px 10px}" +
    ".handoff .stars button{font-size:18px;padding:0 6px;border-color:#f0c36d;color:#a35d00}" +
    ".handoff .stars button[aria-pressed=true]{background:#fff3bf}.handoff .problem{color:#c92a2a}" +
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb;background:#fff}" +
    "textarea{flex:1;resize:none;height:40px;padding:9px 10px;border:1px solid #cbd5e1;border-radius:10px;font-size:14px}" +
    ".send{border:0;border-radius:10px;background:var(--sd-accent);color:#fff;padding:0 14px}" +
    ".send:disabled{opacity:.5;cursor:default}" +
    ":focus-visible{outline:3px solid #74c0fc;outline-offset:2px}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    "</style>" +
    '<button class="bubble" type="button" aria-label="Open chat" aria-expanded="false" aria-controls="sd-panel">' +
    '<svg width="26" height="26" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" ' +
    'd="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z"/></svg>' +
    '</button>' +
    '<section class="panel" id="sd-panel" role="dialog" aria-modal="false" aria-labelledby="sd-title" hidden>' +
    '<header><h2 id="sd-title"></h2><button class="close" type="button" aria-label="Close chat">&#215;</button></header>' +
    '<div class="log" role="log" aria-live="polite" aria-relevant="additions text"></div>' +
    '<div class="handoff" role="status" aria-live="polite" hidden></div>' +
    '<form><label class="sr" for="sd-input">Your message</label>' +
    '<textarea id="sd-input" rows="1" maxlength="4000" placeholder="Type your question"></textarea>' +
    '<button class="send" type="submit">Send</button></form>' +
    '<div class="sr" aria-live="assertive" id="sd-status"></div>' +
    "</section>";

  var bubble = root.querySelector(".bubble");
  var panel = root.querySelector(".panel");
  var log = root.querySelector(".log");
  var form = root.querySelector("form");
  var input = root.querySelector("textarea");
  var send = root.querySelector(".send");
  var status = root.querySelector("#sd-status");
  var handoffBar = root.querySelector(".handoff");
  root.querySelector("#sd-title").textContent = cfg.title;
  var busy = false;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  function scroll() { log.scrollTop = log.scrollHeight; }

  function sourceList(sources) {
    var list = el("ol", "sources");
    list.setAttribute("aria-label", "Sources");
    sources.forEach(function (s) {
      var item = el("li");
      var url = cfg.sourceUrl ? cfg.sourceUrl.replace("{doc_id}", encodeURIComponent(s.doc_id)) : "";
      if (/^https?:\/\//.test(url)) {
        var link = el("a", null, s.title);
        link.href = url; link.target = "_blank"; link.rel = "noopener";
        item.appendChild(link);
      } else {
        item.textContent = s.title;
      }
      list.appendChild(item);
    });
    return list;
  }

  function offerCard(offer) {
    var card = el("div", "offer");
    card.setAttribute("role", "group");
    card.setAttribute("aria-label", "Special offer");
    var what = String(offer.kind || "offer").replace(/_/g, " ");
    var amount = offer.value ? " (" + offer.value + " " + (offer.unit || "") + ")" : "";
    card.appendChild(el("strong", null, "A thank-you from us: " + what + amount.replace(/ \)$/, ")")));
    if (offer.code) {
      var row = el("div", "code");
      row.appendChild(el("code", null, offer.code));
      var copy = el("button", "copy", "Copy code");
      copy.type = "button";
      copy.setAttribute("aria-label", "Copy code " + offer.code);
      copy.addEventListener("click", function () { copyText(offer.code, copy); });
      row.appendChild(copy);
      card.appendChild(row);
    }
    if (offer.expires_at) card.appendChild(el("div", "terms", "Valid until " + String(offer.expires_at).slice(0, 10)));
    if (offer.terms) card.appendChild(el("div", "terms", offer.terms));
    return card;
  }

  function copyText(text, button) {
    function done() { button.textContent = "Copied"; status.textContent = "Code copied"; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else { fallback(); }
    function fallback() {
      var area = el("textarea"); area.value = text; root.appendChild(area); area.select();
      try { document.execCommand("copy"); done(); } catch (e) { status.textContent = "Copy failed"; }
      area.remove();
    }
  }

  // Renders one stored message; returns the text node to stream into for bot answers.
  function render(m) {
    if (m.role === "offer") { log.appendChild(offerCard(m.offer)); return null; }
    if (m.role === "note") { log.appendChild(el("div", "note", m.text)); return null; }
    var box = el("div", "msg " + m.role + (m.error ? " error" : ""));
    if (m.role === "agent") box.appendChild(el("span", "who", "Shop staff"));
    var text = document.createTextNode(m.text || "");
    box.appendChild(text);
    if (m.sources && m.sources.length) box.appendChild(sourceList(m.sources));
    log.appendChild(box);
    return { box: box, text: text };
  }
  function add(m) { saved.messages.push(m); save(); var node = render(m); scroll(); return node; }

  function redraw() {
    log.textContent = "";
    render({ role: "bot", text: cfg.greeting });
    saved.messages.forEach(render);
    scroll();
  }

  function setOpen(open) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    if (open) { input.focus(); scroll(); startPolling(); } else { stopPolling(); bubble.focus(); }
  }
  bubble.addEventListener("click", function () { setOpen(panel.hidden); });
  root.querySelector(".close").addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.preventDefault(); setOpen(false); } });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text || busy) return;
    input.value = "";
    ask(text, true);
  });

  function headers(extra) {
    var h = { "X-Widget-Key": cfg.key };
    if (cfg.token) h["X-Customer-Token"] = cfg.token;
    for (var k in extra) h[k] = extra[k];
    return h;
  }

  async function ask(text, show) {
    busy = true; send.disabled = true;
    if (show) add({ role: "user", text: text });
    var answer = { role: "bot", text: "", sources: [] };
    var node = render(answer);
    node.text.data = "\u2026";  // until the first words arrive
    var retry = false;
    try {
      var response;
      for (var attempt = 0; ; attempt++) {
        response = await fetch(api + "/v1/chat", {
          method: "POST",
          headers: headers({ "Content-Type": "application/json", "Accept": "text/event-stream" }),
          body: JSON.stringify({ message: text, conversation_id: saved.conversationId, customer_token: cfg.token || null })
        });
        // Busy: refused before the message was stored, so asking again cannot repeat it.
        if (response.status !== 503 || attempt >= BUSY_RETRIES) break;
        var wait = Math.min(parseInt(response.headers.get("Retry-After"), 10) || 2, 30);
        node.text.data = "Many shoppers are asking right now. Trying again in " + wait + " s\u2026";
        await new Promise(function (resolve) { setTimeout(resolve, wait * 1000); });
        node.text.data = "\u2026";
      }
      if (response.status === 404 && saved.conversationId) {
        // The conversation is gone or not this shopper's: start a new one and ask again.
        node.box.remove(); saved.conversationId = null; saved.cursor = ""; retry = true;
      } else if (!response.ok) {
        throw await httpProblem(response);
      } else {
        await readEvents(response, answer, node);
      }
    } catch (err) {
      answer.text = err.message || "Sorry, the chat is unavailable right now. Please try again.";
      answer.error = true; node.text.data = answer.text; node.box.classList.add("error");
    }
    var offer = answer.offer;
    delete answer.offer;
    if (answer.text) saved.messages.push(answer);
    if (offer) {
      // An offer is its own card, after the answer it came with.
      saved.messages.push({ role: "offer", offer: offer });
      log.appendChild(offerCard(offer));
      status.textContent = "You have a special offer";
    }
    save(); busy = false; send.disabled = false; scroll();
    if (retry) return ask(text, false);
  }

  async function httpProblem(response) {
    if (response.status === 429) {
      var wait = response.headers.get("Retry-After") || "a few";
      return new Error("You're sending messages quickly. Please try again in " + wait + " seconds.");
    }
    var detail = "";
    try { detail = (await response.json()).detail; } catch (e) { /* not JSON */ }
    return new Error(typeof detail === "string" && detail ? "Sorry: " + detail : "Sorry, something went wrong. Please try again.");
  }

  // Reads a text/event-stream body: blocks separated by a blank line, "event:" and "data:" lines.
  async function readEvents(response, answer, node) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var blocks = buffer.split(/\r?\n\r?\n/);
      buffer = blocks.pop();
      blocks.forEach(function (block) { handle(block, answer, node); });
    }
    if (buffer.trim()) handle(buffer, answer, node);
  }

  function handle(block, answer, node) {
    var name = "message", lines = [];
    block.split(/\r?\n/).forEach(function (line) {
      if (line.indexOf("event:") === 0) name = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) lines.push(line.slice(5).replace(/^ /, ""));
    });
    if (!lines.length) return;  // a keep-alive comment
    var body = JSON.parse(lines.join("\n"));
    if (name === "token") {
      // `replace`: the answer so far was withdrawn (a guardrail stopped it); start again.
      answer.text = body.replace ? body.text : answer.text + body.text;
      node.text.data = answer.text; scroll();
    }
    else if (name === "sources") { answer.sources = body.sources; }
    else if (name === "offer") { answer.offer = body; }
    else if (name === "error") { throw new Error("Sorry: " + body.detail); }
    else if (name === "done") { finish(body, answer, node); }
  }

  function finish(reply, answer, node) {
    if (saved.conversationId !== reply.conversation_id) saved.cursor = "";
    saved.conversationId = reply.conversation_id;
    if (liveFor !== saved.conversationId) { liveFor = null; setTimeout(startLive, 0); }
    if (reply.state === "agent") {
      node.box.remove(); answer.text = "";
      add({ role: "note", text: "A person from the shop is handling this chat and will reply here." });
      return;
    }
    answer.text = reply.answer; node.text.data = reply.answer;
    answer.sources = reply.sources || answer.sources;
    if (answer.sources.length) node.box.appendChild(sourceList(answer.sources));
    if (reply.state === "error") { answer.error = true; node.box.classList.add("error"); }
    answer.offer = reply.offer || answer.offer;
  }

  // A person's replies and the hand-off's state arrive live: a text/event-stream read with
  // fetch (EventSource cannot send the widget key and token), resumed from the last event's
  // id after the server ends it or the network drops. Polling the conversation is the
  // fallback while the stream is down.
  var liveFor = null, liveAbort = null, liveRetry = 0, pollTimer = null, lastStatus = null;
  function startPolling() { startLive(); }
  function stopPolling() {
    liveFor = null;
    if (liveAbort) liveAbort.abort();
    liveAbort = null;
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }
  function startLive() {
    if (!saved.conversationId || liveFor === saved.conversationId || panel.hidden) return;
    stopPolling();
    liveFor = saved.conversationId;
    listen(liveFor);
  }
  async function listen(conversationId) {
    while (liveFor === conversationId) {
      var controller = new AbortController();
      liveAbort = controller;
      var ok = false;
      try {
        var url = api + "/v1/conversations/" + conversationId + "/live?after=" + encodeURIComponent(saved.cursor || "");
        var response = await fetch(url, { headers: headers({ "Accept": "text/event-stream" }), signal: controller.signal });
        if (response.status === 404) { liveFor = null; return; }  // not this shopper's (any more)
        if (response.ok && response.body) {
          ok = true; liveRetry = 0;
          if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
          await readStream(response, liveEvent);
        }
      } catch (e) { /* dropped: resume below */ }
      if (liveFor !== conversationId) return;
      if (!ok) {
        liveRetry = Math.min(liveRetry + 1, 5);
        if (!pollTimer) pollTimer = setInterval(poll, cfg.pollMs);
      }
      await new Promise(function (resolve) { setTimeout(resolve, ok ? 500 : 2000 * liveRetry); });
    }
  }
  async function readStream(response, onEvent) {
    var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) return;
      buffer += decoder.decode(chunk.value, { stream: true });
      var blocks = buffer.split(/\r?\n\r?\n/);
      buffer = blocks.pop();
      blocks.forEach(function (block) {
        var name = "message", id = null, lines = [];
        block.split(/\r?\n/).forEach(function (line) {
          if (line.indexOf("event:") === 0) name = line.slice(6).trim();
          else if (line.indexOf("id:") === 0) id = line.slice(3).trim();
          else if (line.indexOf("data:") === 0) lines.push(line.slice(5).replace(/^ /, ""));
        });
        if (!lines.length) return;
        try { onEvent(name, JSON.parse(lines.join("\n"))); } catch (e) { return; }
        if (id) { saved.cursor = id; save(); }
      });
    }
  }
  function liveEvent(name, body) {
    if (name === "agent_reply") showAgentReply(body.message_id, body.text);
    else if (name === "status") showStatus(body);
  }
  function showAgentReply(id, text) {
    if (!(id > saved.lastAgentId) || !text) return;
    saved.lastAgentId = id;
    add({ role: "agent", text: text });
    status.textContent = "New reply from the shop";
  }
  async function poll() {
    if (!saved.conversationId || busy || document.hidden) return;
    try {
      var response = await fetch(api + "/v1/conversations/" + saved.conversationId, { headers: headers({}) });
      if (!response.ok) return;
      var conversation = await response.json();
      conversation.messages.forEach(function (m) { if (m.role === "agent") showAgentReply(m.id, m.text); });
    } catch (e) { /* offline for a moment: try again next time */ }
  }

  // The hand-off bar under the chat: what the shop said about a person (asked for, expected
  // wait or when someone will answer, joined, resolved), the e-mail field outside business
  // hours, the rating once the conversation is finished, and a way to ask for a person.
  function showStatus(s) {
    lastStatus = s;
    var labels = s.labels || {};
    handoffBar.textContent = "";
    if (s.text) handoffBar.appendChild(el("p", "handoff-text", s.text));
    if (s.open && s.ask_contact && !s.contact_left) handoffBar.appendChild(contactForm(labels));
    if (s.contact_left && s.open) handoffBar.appendChild(el("p", null, labels.email_saved));
    if (s.can_rate && s.state === "resolved") handoffBar.appendChild(ratingForm(labels));
    else if (s.can_rate) {  // answered by the bot alone: rating is offered, not pressed
      var rate = el("button", "rate-open", labels.rate_prompt);
      rate.type = "button";
      rate.addEventListener("click", function () { rate.replaceWith(ratingForm(labels)); });
      handoffBar.appendChild(rate);
    } else if (s.rated) handoffBar.appendChild(el("p", "rated", labels.rate_thanks));
    if (!s.open && s.state !== "resolved") {
      var ask = el("button", "ask-person", labels.ask_person);
      ask.type = "button";
      ask.addEventListener("click", function () { post("handoff", {}, ask); });
      handoffBar.appendChild(ask);
    }
    handoffBar.hidden = !handoffBar.childNodes.length;
    if (s.text && s.open) status.textContent = s.text;
    scroll();
  }
  function contactForm(labels) {
    var box = el("form", "contact");
    var row = el("div", "row");
    var email = el("input");
    email.type = "email"; email.required = true; email.maxLength = 254; email.autocomplete = "email";
    email.setAttribute("aria-label", labels.email); email.placeholder = labels.email;
    var sendButton = el("button", null, labels.email_send);
    sendButton.type = "submit";
    row.appendChild(email); row.appendChild(sendButton); box.appendChild(row);
    box.addEventListener("submit", function (e) { e.preventDefault(); post("contact", { email: email.value.trim() }, sendButton); });
    return box;
  }
  function ratingForm(labels) {
    var box = el("form", "rating");
    box.appendChild(el("p", null, labels.rate_prompt));
    var stars = el("div", "row stars"), score = 0;
    stars.setAttribute("role", "group");
    stars.setAttribute("aria-label", labels.rate_prompt);
    [1, 2, 3, 4, 5].forEach(function (n) {
      var star = el("button", null, "\u2605");
      star.type = "button"; star.dataset.score = String(n);
      star.setAttribute("aria-label", n + " / 5"); star.setAttribute("aria-pressed", "false");
      star.addEventListener("click", function () {
        score = n;
        stars.querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-pressed", String(+b.dataset.score <= n)); });
      });
      stars.appendChild(star);
    });
    box.appendChild(stars);
    var comment = el("textarea");
    comment.maxLength = 2000; comment.rows = 2; comment.placeholder = labels.rate_comment;
    comment.setAttribute("aria-label", labels.rate_comment);
    box.appendChild(comment);
    var sendButton = el("button", "send-rating", labels.rate_send);
    sendButton.type = "submit";
    box.appendChild(sendButton);
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      if (score) post("rating", { score: score, comment: comment.value.trim() || null }, sendButton);
    });
    return box;
  }
  async function post(what, body, button) {
    if (!saved.conversationId) return;
    button.disabled = true;
    body.customer_token = cfg.token || null;
    try {
      var response = await fetch(api + "/v1/conversations/" + saved.conversationId + "/" + what, {
        method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body)
      });
      if (!response.ok) throw await httpProblem(response);
      var result = await response.json();
      if (what === "rating") showStatus(Object.assign({}, lastStatus, { can_rate: false, rated: true }));
      else showStatus(result);
    } catch (err) {
      button.disabled = false;
      var problem = el("p", "problem", err.message);
      problem.setAttribute("role", "alert");
      handoffBar.appendChild(problem);
    }
  }

  function mount() {
    document.body.appendChild(host);
    redraw();
    if (data.open === "true") setOpen(true);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
