// hostpanel: small progressive enhancements. Every page works without this file.
"use strict";

(function () {
  const TOKEN_NAME = /^[A-Za-z0-9_-]{1,50}$/;
  const TOKEN_NAME_RULE = "An API token name must not be longer than 50 characters and may only contain " +
    "the following characters: a-z A-Z 0-9 _ -";

  // Live validation of token names (cPanel's rule), with the message beside the field.
  function validateTokenName(input) {
    const value = input.value;
    const message = value === "" ? "Enter a name." : TOKEN_NAME.test(value) ? "" : "“" + value + "” is not a valid API token name. " + TOKEN_NAME_RULE;
    input.setCustomValidity(message);
    const describedBy = (input.getAttribute("aria-describedby") || "").split(" ");
    const errorId = describedBy.find((id) => id.endsWith("-error"));
    const error = errorId && document.getElementById(errorId);
    if (error) {
      error.textContent = message;
    }
    if (message) {
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
  }

  // Copy buttons: data-copy names the field whose value is copied.
  function copyFrom(button) {
    const field = document.getElementById(button.dataset.copy);
    const status = document.getElementById("copy-status");
    if (!field) {
      return;
    }
    const done = (ok) => {
      if (status) {
        status.textContent = ok ? "Copied to the clipboard." : "Select the text and copy it with Ctrl+C (⌘C).";
      }
      button.textContent = ok ? "Copied" : button.textContent;
    };
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(() => done(true), () => done(false));
    } else {
      done(false);
    }
  }

  // The date field matters only when "On a date" is chosen; the scope table only without full access.
  function syncExpiry() {
    const chosen = document.querySelector("input[data-expiry]:checked");
    const date = document.getElementById("expiry_date");
    if (date) {
      date.disabled = !chosen || chosen.value !== "date";
      date.required = !date.disabled;
    }
  }

  function syncAccess() {
    const chosen = document.querySelector("input[data-access]:checked");
    const table = document.getElementById("scopes");
    if (!table) {
      return;
    }
    const full = chosen && chosen.value === "full";
    table.classList.toggle("off", full);
    table.querySelectorAll("input").forEach((input) => {
      if (!input.dataset.featureOff) {
        input.disabled = full && input.value !== "none";
      }
    });
  }

  // A password strength estimate while typing. The server's check (zxcvbn) decides and says why it refuses.
  const COMMON = ["password", "passwort", "123456", "qwerty", "letmein", "welcome", "admin", "iloveyou", "monkey", "dragon"];
  const WORDS = ["Too weak", "Weak", "Fair", "Good", "Strong"];

  function strength(password) {
    if (password.length < 10) {
      return 0;
    }
    const lower = password.toLowerCase();
    if (COMMON.some((word) => lower.includes(word)) || /^(.)\1+$/.test(password)) {
      return 1;
    }
    let pool = 0;
    [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].forEach((re, i) => {
      if (re.test(password)) {
        pool += [26, 26, 10, 33][i];
      }
    });
    const unique = new Set(password).size;
    const bits = Math.min(password.length, unique * 2) * Math.log2(Math.max(pool, 10));
    return bits < 45 ? 1 : bits < 60 ? 2 : bits < 80 ? 3 : 4;
  }

  function showStrength(input) {
    const meter = document.getElementById(input.dataset.strength);
    const text = document.getElementById(input.dataset.strength + "-text");
    const score = input.value ? strength(input.value) : 0;
    if (meter) {
      meter.value = score;
      meter.textContent = score + " of 4";
    }
    if (text) {
      text.textContent = input.value ? WORDS[score] : "";
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("input[data-token-name]").forEach((input) => {
      input.addEventListener("input", () => validateTokenName(input));
    });
    document.querySelectorAll("button[data-copy]").forEach((button) => {
      button.addEventListener("click", () => copyFrom(button));
    });
    document.querySelectorAll("input[data-expiry]").forEach((input) => input.addEventListener("change", syncExpiry));
    document.querySelectorAll("input[data-access]").forEach((input) => input.addEventListener("change", syncAccess));
    document.querySelectorAll("#scopes input[disabled]").forEach((input) => { input.dataset.featureOff = "1"; });
    document.querySelectorAll("input[data-strength]").forEach((input) => {
      input.addEventListener("input", () => showStrength(input));
    });
    syncExpiry();
    syncAccess();
  });
})();
