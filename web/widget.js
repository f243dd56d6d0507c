/*
 * Bienvenue's chat widget: plain JavaScript on socket.io-client, talking to Rasa's socket.io channel.
 *
 * With session_persistence, Rasa keeps the conversation under the session id the widget sends in its
 * session_request, so the id lives in localStorage. Rasa does not send the past messages again: the widget
 * keeps what it displayed in localStorage too, and shows it again after a reload.
 * Every text is put in the page as text (never as HTML); only Markdown links to https URLs become links.
 */
(function () {
  "use strict";

  const STORAGE = { session: "bienvenue.session", history: "bienvenue.history", open: "bienvenue.open" };
  const HISTORY_LIMIT = 200;
  const FEEDBACK = {
    "/feedback_positive": { value: "positive", label: "Utile", icon: "fr-icon-thumb-up" },
    "/feedback_negative": { value: "negative", label: "Pas utile", icon: "fr-icon-thumb-down" },
  };
  const LINK = /\[([^\]\n]+)\]\((https:\/\/[^\s()<>]+)\)/g;
  const OFFLINE_TEXT =
    "Le serveur de l'assistant est injoignable pour le moment. Nouvelle tentative automatique en cours…";

  /** Splits a bot text into plain parts and link parts; only [title](https://...) makes a link. */
  function parseText(text) {
    const parts = [];
    let last = 0;
    for (const match of text.matchAll(LINK)) {
      if (match.index > last) parts.push({ text: text.slice(last, match.index) });
      parts.push({ text: match[1], href: match[2] });
      last = match.index + match[0].length;
    }
    if (last < text.length) parts.push({ text: text.slice(last) });
    return parts;
  }

  /** Rasa's socket.io message -> what the widget displays and stores. */
  function fromRasa(message) {
    const buttons = (message.quick_replies || message.buttons || [])
      .filter((button) => typeof button.payload === "string" && button.payload)
      .map((button) => ({ title: String(button.title || button.payload), payload: button.payload }));
    return { from: "bot", text: typeof message.text === "string" ? message.text : "", buttons };
  }

  const storage = {
    read(area, key, fallback) {
      try {
        const value = area.getItem(key);
        return value === null ? fallback : JSON.parse(value);
      } catch (error) {
        return fallback; // storage disabled or corrupted: start afresh
      }
    },
    write(area, key, value) {
      try {
        area.setItem(key, JSON.stringify(value));
      } catch (error) {
        // storage full or disabled: the conversation still works, it just won't survive a reload
      }
    },
    remove(area, key) {
      try {
        area.removeItem(key);
      } catch (error) {
        // nothing stored then
      }
    },
  };

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function appendText(parent, text) {
    for (const part of parseText(text)) {
      if (!part.href) {
        parent.append(document.createTextNode(part.text));
        continue;
      }
      const link = element("a", "bienvenue-link", part.text);
      link.href = part.href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.append(element("span", "fr-sr-only", " (nouvelle fenêtre)"));
      parent.append(link);
    }
  }

  function createWidget(root, config) {
    const panel = root.querySelector("#bienvenue-panel");
    const launcher = root.querySelector("#bienvenue-launcher");
    const openers = root.querySelectorAll("[data-bienvenue-open]");
    const log = panel.querySelector("[data-bienvenue-log]");
    const typing = panel.querySelector("[data-bienvenue-typing]");
    const status = panel.querySelector("[data-bienvenue-status]");
    const form = panel.querySelector("[data-bienvenue-form]");
    const input = panel.querySelector("[data-bienvenue-input]");

    let history = storage.read(localStorage, STORAGE.history, []);
    let sessionId = storage.read(localStorage, STORAGE.session, null);
    let socket = null;
    let ready = false; // connected and joined to the session's room: replies will reach this page
    let pending = []; // messages typed while not ready, sent once the session is confirmed
    let returnFocusTo = launcher;

    function saveHistory() {
      history = history.slice(-HISTORY_LIMIT);
      storage.write(localStorage, STORAGE.history, history);
    }

    function renderButtons(message, container) {
      const choices = message.buttons.filter((button) => !FEEDBACK[button.payload]);
      if (choices.length) {
        const list = element("ul", "bienvenue-choices");
        for (const choice of choices) {
          const button = element("button", "fr-btn fr-btn--secondary fr-btn--sm", choice.title);
          button.type = "button";
          button.addEventListener("click", () => send(choice.payload, choice.title));
          const item = element("li");
          item.append(button);
          list.append(item);
        }
        container.append(list);
      }
      const feedback = message.buttons.filter((button) => FEEDBACK[button.payload]);
      if (feedback.length) container.append(renderFeedback(message, feedback));
    }

    function renderFeedback(message, buttons) {
      const group = element("div", "bienvenue-feedback");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Votre avis sur cette réponse");
      const toggles = buttons.map((button) => {
        const kind = FEEDBACK[button.payload];
        const toggle = element("button", "fr-btn fr-btn--tertiary fr-btn--sm fr-btn--icon-left", kind.label);
        toggle.type = "button";
        const show = () => {
          const pressed = message.feedback === kind.value;
          toggle.setAttribute("aria-pressed", String(pressed));
          toggle.classList.remove(`${kind.icon}-line`, `${kind.icon}-fill`);
          toggle.classList.add(`${kind.icon}-${pressed ? "fill" : "line"}`);
        };
        toggle.addEventListener("click", () => {
          if (message.feedback === kind.value) return;
          message.feedback = kind.value;
          saveHistory();
          toggles.forEach((update) => update());
          send(button.payload, null);
        });
        group.append(toggle);
        return show;
      });
      toggles.forEach((update) => update());
      return group;
    }

    function render(message) {
      const mine = message.from === "user";
      const item = element("div", `bienvenue-message bienvenue-message--${mine ? "user" : "bot"}`);
      const bubble = element("p", "bienvenue-message__text");
      bubble.append(element("span", "fr-sr-only", mine ? "Vous : " : "Bienvenue : "));
      if (mine) bubble.append(document.createTextNode(message.text));
      else appendText(bubble, message.text);
      if (message.text) item.append(bubble);
      if (message.buttons && message.buttons.length) renderButtons(message, item);
      log.append(item);
      log.scrollTop = log.scrollHeight;
    }

    function add(message) {
      if (!message.text && !(message.buttons && message.buttons.length)) return;
      history.push(message);
      saveHistory();
      render(message);
    }

    function setTyping(on) {
      typing.hidden = !on;
    }

    function setOffline(offline) {
      status.replaceChildren();
      if (!offline) return;
      const alert = element("div", "fr-alert fr-alert--error fr-alert--sm");
      alert.append(element("p", null, OFFLINE_TEXT));
      status.append(alert);
    }

    function emit(text) {
      socket.emit("user_uttered", { message: text, session_id: sessionId });
    }

    function send(text, shown) {
      if (shown !== null) add({ from: "user", text: shown });
      setTyping(true);
      if (ready) emit(text);
      else pending.push(text);
    }

    function connect() {
      if (socket) return;
      socket = io(config.rasaUrl, { path: "/socket.io" });
      socket.on("connect", () => {
        socket.emit("session_request", { session_id: sessionId });
      });
      socket.on("session_confirm", (confirmedId) => {
        sessionId = confirmedId;
        storage.write(localStorage, STORAGE.session, sessionId);
        ready = true;
        setOffline(false);
        const waiting = pending;
        pending = [];
        waiting.forEach(emit);
      });
      socket.on("bot_uttered", (message) => {
        setTyping(false);
        add(fromRasa(message));
      });
      socket.on("disconnect", (reason) => {
        ready = false;
        if (reason === "io client disconnect") return; // the widget's own doing (clear)
        setOffline(true);
        if (reason === "io server disconnect") socket.connect(); // the only case socket.io does not retry
      });
      socket.on("connect_error", () => {
        ready = false;
        setOffline(true);
      });
    }

    function setOpen(open, opener) {
      panel.hidden = !open;
      launcher.hidden = open;
      openers.forEach((button) => button.setAttribute("aria-expanded", String(open)));
      storage.write(sessionStorage, STORAGE.open, open);
      if (open) {
        if (opener) returnFocusTo = opener;
        connect();
        log.scrollTop = log.scrollHeight;
        input.focus();
      } else {
        returnFocusTo.focus();
      }
    }

    function clear() {
      history = [];
      pending = [];
      sessionId = null;
      storage.remove(localStorage, STORAGE.history);
      storage.remove(localStorage, STORAGE.session);
      log.querySelectorAll(".bienvenue-message:not(.bienvenue-message--intro)").forEach((node) => node.remove());
      setTyping(false);
      if (socket) {
        ready = false;
        socket.disconnect().connect(); // a new session_request, without an id: a new conversation
      }
      input.focus();
    }

    openers.forEach((button) => button.addEventListener("click", () => setOpen(true, button)));
    panel.querySelector("[data-bienvenue-close]").addEventListener("click", () => setOpen(false));
    panel.querySelector("[data-bienvenue-clear]").addEventListener("click", clear);
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") setOpen(false);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      send(text, text);
    });

    history.forEach(render);
    if (storage.read(sessionStorage, STORAGE.open, false)) setOpen(true);
  }

  createWidget(document, window.BIENVENUE_CONFIG);
})();
