// Sharing files: the Attach button, drag and drop onto the messages, and
// pasting a file or image into the message box.
import { formatSize, interpolate } from "./format.js";

export class Uploader {
  // onStart(clientId, file, text) shows the pending message; onDone(clientId,
  // message) and onFail(clientId, detail, retry) report the outcome.
  constructor({ config, strings, csrfToken, onStart, onDone, onFail, onRefuse, statusElement }) {
    this.config = config;
    this.strings = strings;
    this.csrfToken = csrfToken;
    this.onStart = onStart;
    this.onDone = onDone;
    this.onFail = onFail;
    this.onRefuse = onRefuse;
    this.statusElement = statusElement;
    this.active = new Set();
    this.queue = Promise.resolve();
    this.stopped = false;
  }

  // Share nothing more (the room can no longer be written to).
  stop() {
    this.stopped = true;
  }

  // Refuse what the server would refuse anyway; return an error or null.
  check(file) {
    if (file.size > this.config.maxUploadBytes) {
      return interpolate(this.strings.fileTooLarge, { limit: formatSize(this.config.maxUploadBytes) });
    }
    if (file.size === 0) return this.strings.fileEmpty;
    return null;
  }

  // Share ``files`` one after the other; ``text`` goes with the first.
  shareFiles(files, takeText) {
    if (this.stopped) return;
    for (const file of files) {
      const problem = this.check(file);
      if (problem) {
        this.onRefuse(`${file.name}: ${problem}`);
        continue;
      }
      const text = takeText();
      const clientId = this.onStart(file, text);
      this.enqueue(clientId, file, text);
    }
  }

  enqueue(clientId, file, text) {
    this.queue = this.queue.then(() => this.upload(clientId, file, text));
  }

  updateStatus() {
    const names = [...this.active];
    this.statusElement.hidden = names.length === 0;
    this.statusElement.textContent = names.length
      ? interpolate(this.strings.uploading, { name: names.join(", ") })
      : "";
  }

  async upload(clientId, file, text) {
    const body = new FormData();
    body.append("file", file, file.name);
    body.append("text", text);
    body.append("client_id", clientId);
    this.active.add(file.name);
    this.updateStatus();
    try {
      const response = await fetch(this.config.uploadUrl, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": this.csrfToken, Accept: "application/json" },
        credentials: "same-origin",
      });
      let data = null;
      try {
        data = await response.json();
      } catch {
        data = null;
      }
      if (response.ok && data && data.message) {
        this.onDone(clientId, data.message);
        return;
      }
      const detail = data && data.detail ? data.detail : `${this.strings.uploadFailed} (${response.status})`;
      this.onFail(clientId, detail, () => this.enqueue(clientId, file, text));
    } catch (error) {
      console.warn("chat: upload failed", error);
      this.onFail(clientId, this.strings.uploadFailed, () => this.enqueue(clientId, file, text));
    } finally {
      this.active.delete(file.name);
      this.updateStatus();
    }
  }

  // Wire the Attach button, drop target and paste.
  attach({ button, input, dropTarget, textarea, takeText }) {
    button.addEventListener("click", () => input.click());
    input.addEventListener("change", () => {
      const files = [...input.files];
      input.value = "";
      if (files.length) this.shareFiles(files, takeText);
    });

    let depth = 0;
    const hasFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
    dropTarget.addEventListener("dragenter", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth += 1;
      dropTarget.classList.add("is-dragover");
    });
    dropTarget.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    dropTarget.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) dropTarget.classList.remove("is-dragover");
    });
    dropTarget.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      dropTarget.classList.remove("is-dragover");
      const files = [...event.dataTransfer.files];
      if (files.length) this.shareFiles(files, takeText);
    });

    textarea.addEventListener("paste", (event) => {
      const data = event.clipboardData;
      if (!data || !data.files || data.files.length === 0) return;
      // Text copied from a page may come with a picture of it: paste the text.
      if ([...data.types].includes("text/plain")) return;
      event.preventDefault();
      this.shareFiles([...data.files], takeText);
    });
  }
}
