// The components client script: loads a page's or a fragment's component JS/CSS and calls each
// component instance's JS with its data and root elements. Served at /components/manager.js.
(function () {
  "use strict";
  if (globalThis.DjangoComponents) return;

  const loaded = { js: new Map(), css: new Map() }; // url -> Promise<boolean> (true: loaded)
  const handlers = new Map(); // class id -> [fn]
  const data = new Map(); // "class id:hash" -> JSON text
  const pending = []; // calls waiting for their class JS / data / loads
  const called = new Set(); // instance ids already called
  const seen = new WeakSet(); // data-djc scripts already processed

  function markLoaded(type, url) {
    if (!loaded[type].has(url)) loaded[type].set(url, Promise.resolve(true));
  }

  function load(type, url) {
    const known = loaded[type].get(url);
    if (known) return known;
    const promise = new Promise((resolve) => {
      const el = document.createElement(type === "js" ? "script" : "link");
      if (type === "js") {
        el.src = url;
        el.async = false;
      } else {
        el.rel = "stylesheet";
        el.href = url;
      }
      el.onload = () => resolve(true);
      el.onerror = () => {
        console.error("components: failed to load " + url);
        resolve(false); // never a stall: the rest goes on
      };
      (type === "js" ? document.body || document.head : document.head).appendChild(el);
    });
    loaded[type].set(url, promise);
    return promise;
  }

  function flush() {
    for (let i = 0; i < pending.length; ) {
      const call = pending[i];
      const fns = handlers.get(call.cls);
      const ready = call.settled && fns && (call.hash === null || data.has(call.cls + ":" + call.hash));
      if (!ready) {
        i++;
        continue;
      }
      pending.splice(i, 1);
      run(call, fns);
    }
  }

  async function run(call, fns) {
    if (called.has(call.id)) return;
    called.add(call.id);
    const els = Array.from(document.querySelectorAll("[data-djc-id-" + call.id.toLowerCase() + "]"));
    for (const fn of fns) {
      const input = call.hash === null ? {} : JSON.parse(data.get(call.cls + ":" + call.hash));
      try {
        await fn(input, { name: call.cls, id: call.id, els: els });
      } catch (error) {
        console.error("components: " + call.cls + " (" + call.id + ") failed", error);
      }
    }
  }

  function process(payload) {
    (payload.loadedCss || []).forEach((url) => markLoaded("css", url));
    (payload.loadedJs || []).forEach((url) => markLoaded("js", url));
    const loads = (payload.fetchCss || []).map((url) => load("css", url));
    // Scripts are inserted in order with async = false, so they run in order.
    (payload.fetchJs || []).forEach((url) => loads.push(load("js", url)));
    const calls = (payload.calls || []).map(([cls, id, hash]) => ({ cls, id, hash, settled: false }));
    pending.push(...calls);
    Promise.all(loads).then(() => {
      calls.forEach((call) => (call.settled = true));
      flush();
    });
  }

  // While the page is still being parsed, the observer can see a data-djc script before the
  // parser has put all of its text in (a slow or streamed page): that text doesn't parse yet, and
  // the script is read again each time its text grows (the parser adds a text node, then appends
  // to it) and at DOMContentLoaded. Only a script that still doesn't parse once it is complete is
  // malformed.
  function mayBeIncomplete(script) {
    return document.readyState === "loading" && script.ownerDocument === document && script.isConnected;
  }

  const filling = new Map(); // incomplete script -> the observer watching it for more text

  function whenFilled(script) {
    if (filling.has(script)) return;
    const watcher = new MutationObserver(() => {
      scan(script);
      if (seen.has(script)) stopWatching(script);
    });
    filling.set(script, watcher);
    watcher.observe(script, { childList: true, characterData: true, subtree: true });
  }

  function stopWatching(script) {
    filling.get(script)?.disconnect();
    filling.delete(script);
  }

  function scan(root) {
    const scripts = root.matches && root.matches("script[data-djc]") ? [root] : [];
    if (root.querySelectorAll) scripts.push(...root.querySelectorAll("script[data-djc]"));
    for (const script of scripts) {
      if (seen.has(script)) continue;
      let payload;
      try {
        payload = JSON.parse(script.textContent);
      } catch (error) {
        if (mayBeIncomplete(script)) {
          whenFilled(script);
          continue;
        }
        seen.add(script);
        console.error("components: a malformed data-djc script", error);
        continue;
      }
      seen.add(script);
      // A payload of the wrong shape is reported, and the scripts after it are still read.
      try {
        process(payload);
      } catch (error) {
        console.error("components: a data-djc script of the wrong shape", error);
      }
    }
  }

  const manager = {
    registerComponent(cls, fn) {
      if (!handlers.has(cls)) handlers.set(cls, []);
      handlers.get(cls).push(fn);
      flush();
    },
    registerComponentData(cls, hash, value) {
      data.set(cls + ":" + hash, JSON.stringify(value));
      flush();
    },
    // Puts fragment HTML into `target` (its scripts don't run through innerHTML; the data-djc
    // script is picked up all the same) and returns once its calls are queued.
    insertFragment(target, html) {
      target.innerHTML = html;
      scan(target);
    },
    loadedUrls(type) {
      return Array.from(loaded[type].keys());
    },
  };
  globalThis.DjangoComponents = { manager };

  scan(document);
  new MutationObserver((records) => {
    for (const record of records) record.addedNodes.forEach((node) => node.nodeType === 1 && scan(node));
  }).observe(document, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", () => {
    scan(document);
    // Every script is whole now: read above, or reported as malformed.
    Array.from(filling.keys()).forEach(stopWatching);
  });
})();
