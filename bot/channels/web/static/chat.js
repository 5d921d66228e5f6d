// The web chat page: keeps a random session token, sends questions and chip choices to /api/chat.
"use strict";

const SESSION_KEY = "policybot.session";
const TRADITIONAL_KEY = "policybot.traditional";
const LARGE_KEY = "policybot.large";
const SESSION_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

// The page's own words in both scripts; the answers come from the server in the chosen script.
const WORDS = {
  simplified: {
    title: "政策小助手", send: "发送", traditional: "繁体", large: "长者模式",
    placeholder: "直接打字问，比如：老板欠工资怎么办", failed: "没连上，请稍后再试。",
  },
  traditional: {
    title: "政策小助手", send: "發送", traditional: "繁體", large: "長者模式",
    placeholder: "直接打字問，比如：老闆欠工資怎麼辦", failed: "沒連上，請稍後再試。",
  },
};

function savedSession() {
  let session = localStorage.getItem(SESSION_KEY);
  if (!session || !SESSION_PATTERN.test(session)) {
    session = document.body.dataset.session;
    localStorage.setItem(SESSION_KEY, session);
  }
  return session;
}

const session = savedSession();
const messages = document.getElementById("messages");
const form = document.getElementById("ask");
const question = document.getElementById("question");
const traditionalToggle = document.getElementById("toggle-traditional");
const largeToggle = document.getElementById("toggle-large");
let traditional = localStorage.getItem(TRADITIONAL_KEY) === "1";
let large = localStorage.getItem(LARGE_KEY) === "1";

function words() {
  return traditional ? WORDS.traditional : WORDS.simplified;
}

function applySettings() {
  const w = words();
  document.getElementById("title").textContent = w.title;
  document.getElementById("send").textContent = w.send;
  traditionalToggle.textContent = w.traditional;
  largeToggle.textContent = w.large;
  question.placeholder = w.placeholder;
  traditionalToggle.setAttribute("aria-pressed", String(traditional));
  largeToggle.setAttribute("aria-pressed", String(large));
  document.body.classList.toggle("large", large);
  document.documentElement.lang = traditional ? "zh-Hant" : "zh-CN";
}

function scrollToEnd() {
  window.scrollTo(0, document.body.scrollHeight);
}

function showMine(text) {
  const bubble = document.createElement("div");
  bubble.className = "message mine";
  bubble.textContent = text;
  messages.appendChild(bubble);
  scrollToEnd();
}

function showReply(reply) {
  const bubble = document.createElement("div");
  bubble.className = "message reply";
  const text = document.createElement("div");
  text.className = "text";
  text.textContent = reply.text;
  bubble.appendChild(text);
  if (reply.choices.length) {
    const chips = document.createElement("div");
    chips.className = "chips";
    for (const choice of reply.choices) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.textContent = choice.label;
      chip.addEventListener("click", () => send({ choice: choice.choice }, choice.label));
      chips.appendChild(chip);
    }
    bubble.appendChild(chips);
  }
  messages.appendChild(bubble);
  scrollToEnd();
}

function showError(text) {
  const line = document.createElement("div");
  line.className = "error";
  line.textContent = text;
  messages.appendChild(line);
  scrollToEnd();
}

async function send(payload, shown) {
  if (shown) showMine(shown);
  try {
    const response = await fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session, traditional, ...payload }),
    });
    const body = await response.json();
    if (!response.ok) {
      showError(body.error || words().failed);
      return;
    }
    body.replies.forEach(showReply);
  } catch (error) {
    showError(words().failed);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = question.value.trim();
  if (!text) return;
  question.value = "";
  send({ text }, text);
});

question.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

traditionalToggle.addEventListener("click", () => {
  traditional = !traditional;
  localStorage.setItem(TRADITIONAL_KEY, traditional ? "1" : "0");
  applySettings();
});

largeToggle.addEventListener("click", () => {
  large = !large;
  localStorage.setItem(LARGE_KEY, large ? "1" : "0");
  applySettings();
});

// A poster's link (/chat?start=<campaign payload>) is recorded like Telegram's deep link.
const START_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const poster = new URLSearchParams(window.location.search).get("start");

applySettings();
send({ text: poster && START_PATTERN.test(poster) ? `/start ${poster}` : "/start" });
