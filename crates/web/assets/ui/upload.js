// Resumable uploads on the dossier page (forms with data-resumable): the file goes in chunks
// of 128 KB, each acknowledged by the server once on disk, with a progress bar. When the link
// drops, the script waits, asks the server how much arrived and sends the rest — also after a
// page reload (the upload's id is kept in localStorage). Without JavaScript the form is a plain
// multipart upload.
(function () {
  "use strict";
  var CHUNK = 128 * 1024;
  var vi = (document.documentElement.lang || "vi") === "vi";
  function t(v, e) { return vi ? v : e; }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  if (!window.XMLHttpRequest || !window.Blob || !Blob.prototype.slice || !window.Promise) return;

  // One request; resolves with {status, body} (network errors: status 0).
  function send(method, url, csrf, headers, body, onProgress) {
    return new Promise(function (resolve) {
      var x = new XMLHttpRequest();
      x.open(method, url);
      x.timeout = 120000;
      x.setRequestHeader("Accept", "application/json");
      if (csrf) x.setRequestHeader("X-CSRF-Token", csrf);
      Object.keys(headers || {}).forEach(function (k) { x.setRequestHeader(k, headers[k]); });
      if (onProgress && x.upload) x.upload.onprogress = function (e) { onProgress(e.loaded); };
      x.onload = function () {
        var b = null;
        try { b = JSON.parse(x.responseText); } catch (e) { b = null; }
        resolve({ status: x.status, body: b });
      };
      x.onerror = x.ontimeout = x.onabort = function () { resolve({ status: 0, body: null }); };
      x.send(body === undefined ? null : body);
    });
  }

  function problem(r) {
    var b = r.body || {};
    return (vi ? b.detail : b.detail_en || b.detail) || t("Lỗi ", "Error ") + r.status;
  }

  async function upload(form, file, component, csrf, show) {
    var code = form.getAttribute("data-code");
    var key = "motcua-upload:" + [code, component, file.name, file.size, file.lastModified].join(":");
    var id = null, offset = 0, r;
    try { id = localStorage.getItem(key); } catch (e) { id = null; }
    if (id) {
      r = await send("GET", "/tai-len/" + id, null);
      if (r.status === 200 && r.body && r.body.upload) offset = r.body.upload.offset;
      else if (r.status === 0 || r.status >= 500) throw new Error(t("Mất kết nối; hãy thử lại khi có mạng", "Connection lost; try again when online"));
      else id = null;
    }
    if (!id) {
      var begin = { name: file.name, size: file.size };
      if (component !== "result") begin.component = parseInt(component, 10);
      for (var attempt = 0; ; attempt++) {
        r = await send("POST", "/ho-so/" + encodeURIComponent(code) + "/tai-len", csrf,
          { "Content-Type": "application/json" }, JSON.stringify(begin));
        if (r.status === 201) break;
        if (r.status !== 0 && r.status < 500) throw new Error(problem(r));
        show(0, t("Mất kết nối, đang thử lại…", "Connection lost, retrying…"));
        await sleep(Math.min(30000, 1000 * Math.pow(2, attempt)));
      }
      id = r.body.id;
      try { localStorage.setItem(key, id); } catch (e) { /* private mode: no resuming after reload */ }
    }
    var failures = 0;
    while (true) {
      var end = Math.min(file.size, offset + CHUNK);
      var base = offset;
      show(offset, "");
      r = await send("PATCH", "/tai-len/" + id, csrf,
        { "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" },
        file.slice(offset, end), function (loaded) { show(base + loaded, ""); });
      if (r.status === 201) {
        try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
        return r.body;
      }
      if (r.status === 200) { offset = r.body.upload.offset; failures = 0; continue; }
      if (r.status === 0 || r.status === 409 || r.status >= 500) {
        // Dropped, timed out or out of step: wait, ask where the server is, go on from there.
        // After many failures in a row, stop and say so: the upload resumes from the server's
        // offset when the user sends it again (its id is kept).
        failures++;
        if (failures > 12) throw new Error(t("Mất kết nối quá lâu; hãy bấm Tải lên lại để gửi tiếp phần còn lại", "The connection was lost too long; press Upload again to send the rest"));
        show(offset, t("Mất kết nối, đang thử lại…", "Connection lost, retrying…"));
        await sleep(Math.min(30000, 500 * Math.pow(2, Math.min(failures, 6))));
        var s = await send("GET", "/tai-len/" + id, null);
        if (s.status === 200 && s.body && s.body.upload) {
          offset = s.body.upload.offset;
          if (s.body.upload.file_id) {
            try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
            return s.body;
          }
        } else if (s.status === 404) {
          try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
          throw new Error(problem(s));
        }
        continue;
      }
      try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
      throw new Error(problem(r));
    }
  }

  document.addEventListener("submit", async function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-resumable]")) return;
    var input = form.querySelector("input[type=file]");
    var file = input && input.files && input.files[0];
    if (!file) return;
    e.preventDefault();
    var csrf = (form.querySelector("input[name=_csrf]") || {}).value || "";
    var component = (form.querySelector("[name=component]") || {}).value || "result";
    var box = form.querySelector(".upload-progress");
    var bar = box.querySelector("progress");
    var note = box.querySelector("[data-note]");
    var button = form.querySelector("button[type=submit]");
    box.hidden = false;
    button.disabled = true;
    bar.max = file.size;
    function show(done, msg) {
      bar.value = done;
      var pct = Math.floor((100 * done) / file.size);
      note.textContent = pct + " % (" + Math.round(done / 1024) + " / " + Math.round(file.size / 1024) + " KB)" + (msg ? " — " + msg : "");
    }
    try {
      await upload(form, file, component, csrf, show);
      show(file.size, t("Đã tải lên", "Uploaded"));
      window.location.assign("/ho-so/" + encodeURIComponent(form.getAttribute("data-code")) + "?tep=1#components");
    } catch (err) {
      note.textContent = t("Không tải lên được: ", "Upload failed: ") + err.message;
      note.setAttribute("role", "alert");
      button.disabled = false;
    }
  });
})();
