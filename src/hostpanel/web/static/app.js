// hostpanel: small progressive enhancements. Every page works without this file.
"use strict";

(function () {
  const TOKEN_NAME = /^[A-Za-z0-9_-]{1,50}$/;
  const TOKEN_NAME_RULE = "An API token name must not be longer than 50 characters and may only contain " +
    "the following characters: a-z A-Z 0-9 _ -";

  // A message (or none) beside a field: the element its aria-describedby names "...-error", and the field's validity.
  function showFieldError(input, message) {
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

  // Live validation of token names (cPanel's rule), with the message beside the field.
  function validateTokenName(input) {
    const value = input.value;
    const message = value === "" ? "Enter a name." : TOKEN_NAME.test(value) ? "" : "“" + value + "” is not a valid API token name. " + TOKEN_NAME_RULE;
    showFieldError(input, message);
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

  // Uploads: say at once when the chosen files pass the server's limit (the server refuses them anyway).
  function checkUploadSize(input) {
    const limit = Number(input.dataset.maxBytes);
    const total = Array.from(input.files || []).reduce((sum, file) => sum + file.size, 0);
    const message = limit && total > limit
      ? "The files are larger than the upload limit of " + input.dataset.maxText + " in all: choose fewer or smaller files."
      : "";
    showFieldError(input, message);
  }

  // Backups: follow each running job through the page layer's small JSON answer, without reloading the page.
  const BADGES = { running: "expires-soon", complete: "active", failed: "expired" };
  const POLL_MS = 500;

  function describeJob(job) {
    if (job.status === "complete") {
      return "Complete: " + job.files_done + " file" + (job.files_done === 1 ? "" : "s") + " backed up.";
    }
    if (job.status === "failed") {
      return "Failed: " + (job.error || "the backup did not finish");
    }
    return "Backing up: " + job.files_done + " of " + job.files_total + " files.";
  }

  function showJob(container, job) {
    const set = (selector, apply) => container.querySelectorAll(selector).forEach(apply);
    set("[data-job-progress]", (bar) => { bar.value = job.percent; bar.textContent = job.percent + "%"; });
    set("[data-job-percent]", (span) => { span.textContent = Math.round(job.percent) + "%"; });
    set("[data-job-text]", (text) => {
      const words = describeJob(job);
      if (text.textContent !== words) {
        text.textContent = words;
      }
    });
    set("[data-job-refresh]", (hint) => { hint.hidden = true; });
    if (job.status === "running") {
      return;
    }
    set("[data-job-status]", (cell) => {
      const badge = document.createElement("span");
      badge.className = "badge " + (BADGES[job.status] || "");
      badge.textContent = job.status.charAt(0).toUpperCase() + job.status.slice(1);
      cell.replaceChildren(badge);
      if (job.error) {
        const reason = document.createElement("span");
        reason.className = "from";
        reason.textContent = job.error;
        cell.append(reason);
      }
    });
    set("[data-job-size]", (cell) => { cell.textContent = job.size_text; });
    set("[data-job-ready]", (part) => { part.hidden = job.status !== "complete"; });
  }

  function followBackup(id) {
    const containers = document.querySelectorAll('[data-backup-job="' + CSS.escape(id) + '"]');
    const poll = () => {
      fetch("/backups/status.json?job=" + encodeURIComponent(id), { headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((job) => {
          containers.forEach((container) => showJob(container, job));
          if (job.status === "running") {
            window.setTimeout(poll, POLL_MS);
          }
        })
        .catch(() => {
          containers.forEach((container) => {
            container.querySelectorAll("[data-job-refresh]").forEach((hint) => { hint.hidden = false; });
          });
        });
    };
    poll();
  }

  // A DNS record's form shows the data fields of the chosen type only (without this file it shows them all).
  function syncRecordType(select) {
    const types = select.form ? select.form.querySelectorAll("[data-for-types]") : [];
    types.forEach((field) => {
      const shown = field.dataset.forTypes.split(" ").includes(select.value);
      field.hidden = !shown;
      field.querySelectorAll("input, textarea").forEach((input) => { input.disabled = !shown; });
    });
  }

  // "Only certificate challenges" takes the DNS permission to read and write (it limits what may be written).
  function syncChallenges(box) {
    const write = document.getElementById("scope-dns-write");
    if (box.checked && write && !write.disabled) {
      write.checked = true;
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
    document.querySelectorAll("input[type=file][data-max-bytes]").forEach((input) => {
      input.addEventListener("change", () => checkUploadSize(input));
    });
    document.querySelectorAll("select[data-record-type]").forEach((select) => {
      select.addEventListener("change", () => syncRecordType(select));
      syncRecordType(select);
    });
    document.querySelectorAll("input[data-challenges]").forEach((box) => {
      box.addEventListener("change", () => syncChallenges(box));
    });
    const jobs = new Set(Array.from(document.querySelectorAll("[data-backup-job]"), (el) => el.dataset.backupJob));
    jobs.forEach(followBackup);
    syncExpiry();
    syncAccess();
  });
})();
