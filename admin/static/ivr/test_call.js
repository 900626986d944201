/* Test-call page: place a simulated call, send keys and phrases, show the live transcript (EventSource). */
(function () {
  "use strict";
  var root = document.getElementById("testcall");
  if (!root) { return; }
  var csrf = root.getAttribute("data-csrf");
  var transcript = document.getElementById("transcript");
  var status = document.getElementById("call-status");
  var errorBox = document.getElementById("testcall-error");
  var callButton = document.getElementById("call-button");
  var hangupButton = document.getElementById("hangup-button");
  var speakButton = document.getElementById("speak-button");
  var keys = Array.prototype.slice.call(document.querySelectorAll(".keypad-key"));
  var uuid = null;
  var source = null;
  var seen = {};

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {error: response.statusText}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.error || response.statusText); }
        return data;
      });
    });
  }

  function showError(err) {
    errorBox.textContent = err ? err.message || String(err) : "";
    errorBox.hidden = !err;
  }

  function setLive(live) {
    keys.forEach(function (b) { b.disabled = !live; });
    hangupButton.disabled = !live;
    speakButton.disabled = !live;
    callButton.disabled = live;
  }

  function describe(entry) {
    switch (entry.event) {
      case "prompt": return "🔊 " + (entry.text || entry.file || "");
      case "prompt_missing": return "⚠ missing prompt " + (entry.file || "");
      case "press": return "⌨ " + entry.digit;
      case "speak": return "🗣 " + (entry.file || "").split("/").pop() + " (" + entry.seconds + " s)";
      case "app": return "· " + entry.app + (entry.arg ? " " + String(entry.arg).slice(0, 80) : "");
      case "hangup": return "☎ hangup " + (entry.cause || "");
      case "answer": return "☎ answered";
      case "call": return "☎ " + (entry.ani || "") + " → " + (entry.dnis || "");
      case "bridge": return "↔ bridged " + (entry.to || entry.other || "");
      default: return entry.event + " " + JSON.stringify(entry);
    }
  }

  function add(entry) {
    var key = [entry.t, entry.event, entry.digit || "", entry.file || "", entry.app || ""].join("|");
    if (seen[key]) { return; }
    seen[key] = true;
    var li = document.createElement("li");
    li.setAttribute("data-event", entry.event);
    li.setAttribute("data-t", entry.t);
    var t = document.createElement("small");
    t.className = "text-muted mr-2";
    t.textContent = (entry.t !== undefined ? Number(entry.t).toFixed(1) : "") + " s";
    li.appendChild(t);
    li.appendChild(document.createTextNode(describe(entry)));
    // keep time order even when the backfill arrives after live events
    var after = null;
    Array.prototype.forEach.call(transcript.children, function (other) {
      if (Number(other.getAttribute("data-t")) <= Number(entry.t)) { after = other; }
    });
    if (after) { after.after(li); } else { transcript.prepend(li); }
    transcript.scrollTop = transcript.scrollHeight;
    if (entry.event === "hangup") {
      status.textContent = root.getAttribute("data-msg-ended");
      setLive(false);
      if (source) { source.close(); source = null; }
    }
  }

  callButton.addEventListener("click", function () {
    showError(null);
    transcript.innerHTML = "";
    seen = {};
    status.textContent = root.getAttribute("data-msg-calling");
    callButton.disabled = true;
    post(root.getAttribute("data-call-url"), {
      dnis: document.getElementById("dnis").value, ani: document.getElementById("ani").value
    }).then(function (data) {
      uuid = data.uuid;
      document.getElementById("call-uuid").textContent = uuid;
      status.textContent = root.getAttribute("data-msg-live");
      setLive(true);
      source = new EventSource(data.events + "?token=" + encodeURIComponent(data.token) +
                               "&topic=" + encodeURIComponent(data.topic));
      source.addEventListener("transcript", function (ev) { add(JSON.parse(ev.data)); });
      source.addEventListener("open", function () {
        // what happened before the stream opened
        fetch(root.getAttribute("data-transcript-url").replace("UUID", uuid), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : {transcript: []}; })
          .then(function (data) { (data.transcript || []).forEach(add); });
      });
    }).catch(function (err) { showError(err); status.textContent = ""; setLive(false); });
  });

  hangupButton.addEventListener("click", function () {
    if (uuid) { post(root.getAttribute("data-hangup-url"), {uuid: uuid}).catch(showError); }
  });

  keys.forEach(function (button) {
    button.addEventListener("click", function () {
      if (uuid) {
        post(root.getAttribute("data-dtmf-url"), {uuid: uuid, digits: button.getAttribute("data-key")})
          .catch(showError);
      }
    });
  });

  speakButton.addEventListener("click", function () {
    var phrase = document.getElementById("phrase").value;
    if (uuid && phrase) {
      speakButton.disabled = true;
      post(root.getAttribute("data-speak-url"), {uuid: uuid, phrase: phrase,
                                                 lang: document.getElementById("phrase-lang").value})
        .catch(showError).then(function () { speakButton.disabled = !uuid || callButton.disabled === false; });
    }
  });
})();
