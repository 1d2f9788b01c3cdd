import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

/**
 * GraphiQL without a CDN and without inline code: Yoga's local renderer (`@graphql-yoga/render-graphiql`)
 * inlines its 9 MB bundle, its stylesheet, an init script and its editor's workers (as blob: URLs) in
 * the page, and its fonts and icons as data: URLs, so a page served under a strict
 * Content-Security-Policy (`default-src 'self'`, as a proxy may add) stays blank. Here the page holds
 * markup and a non-executed JSON data block only; the code, the stylesheet, the workers, the fonts and
 * images the stylesheet uses, and the favicon are same-origin files under GRAPHIQL_ASSETS, so the page
 * works under `default-src 'self'` and the server sends a policy of its own that allows no more.
 */
export const GRAPHIQL_ASSETS = '/graphql/assets/';

/**
 * What the page needs, and nothing else: its own files, requests to this origin, and data: images
 * (the editor draws the wavy underline under an error as an SVG data: URL it builds with the theme's
 * colour; under a stricter policy only that underline is missing). No inline script or style: the
 * page's init script routes the editor's run-time styles through the CSS object model (see INIT_SCRIPT).
 */
export const GRAPHIQL_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self'",
  "font-src 'self'",
  "img-src 'self' data:",
  // GraphiQL's requests (HTTP, server-sent events, websockets) go to this origin alone.
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The page: markup, links to same-origin files, and GraphiQL's options as data (never executed). */
export function renderGraphiQLPage(options: GraphiQLOptions | undefined): string {
  // `<` escaped: no value (a title, a default query) can close the data block early.
  const data = JSON.stringify(options ?? {}).replace(/</g, '\\u003c');
  const title = escapeHtml(options?.title ?? 'GraphiQL');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    <link rel="icon" href="${GRAPHIQL_ASSETS}favicon.ico" />
    <link rel="stylesheet" href="${GRAPHIQL_ASSETS}graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-options">${data}</script>
    <script src="${GRAPHIQL_ASSETS}init.js"></script>
    <script src="${GRAPHIQL_ASSETS}graphiql.js"></script>
  </body>
</html>
`;
}

/** Sends the server's policy with the GraphiQL page (the only HTML Yoga answers with). */
export function useGraphiQLContentSecurityPolicy(): Plugin {
  return {
    onResponse({ response }) {
      if (response.headers.get('content-type')?.startsWith('text/html'))
        response.headers.set('content-security-policy', GRAPHIQL_CONTENT_SECURITY_POLICY);
    },
  };
}

// Runs before graphiql.js: sets the editor's worker URLs, routes the inline styles the editor writes
// through the CSS object model (which a Content-Security-Policy does not restrict), and renders once
// the page is parsed (after graphiql.js, the next script, has run).
//
// The editor (Monaco) writes two kinds of inline style that `style-src 'self'` refuses: each line of
// text is inserted as HTML with its position in a `style` attribute (refused, the lines pile up at
// the top), and the theme's colours are the text of a `<style>` element (refused, no colours). HTML
// inserted with innerHTML / insertAdjacentHTML has its `style` attributes renamed before parsing and
// applied with `element.style.cssText` after; the text and rules of a `<style>` element go to a
// constructed sheet the document adopts. Same styles, none of them inline (the `<style>` elements are
// still inserted, empty: Chromium reports each as a `style-src-elem` violation, which changes nothing).
const INIT_SCRIPT = `'use strict';
(function () {
  var base = ${JSON.stringify(GRAPHIQL_ASSETS)};
  var workers = {
    editorWorkerService: base + 'editor.worker.js',
    json: base + 'json.worker.js',
    graphql: base + 'graphql.worker.js',
  };
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (_moduleId, label) {
      return workers[label];
    },
  };

  var STYLE_ATTRIBUTE = 'data-csp-style';
  // Only inside tags: text is escaped (&lt;) in HTML handed to innerHTML, so a tag starts with a bare <.
  var tag = /<[a-zA-Z][^<>]*>/g;
  var styleAttribute = /(\\s)style=("[^"]*"|'[^']*')/g;
  function renameStyles(html) {
    return html.replace(tag, function (t) {
      return t.replace(styleAttribute, '$1' + STYLE_ATTRIBUTE + '=$2');
    });
  }
  function applyStyles(root) {
    if (!root || !root.querySelectorAll) return;
    var elements = root.querySelectorAll('[' + STYLE_ATTRIBUTE + ']');
    for (var i = 0; i < elements.length; i++) {
      elements[i].style.cssText = elements[i].getAttribute(STYLE_ATTRIBUTE);
      elements[i].removeAttribute(STYLE_ATTRIBUTE);
    }
  }
  var innerHTML = Object.getOwnPropertyDescriptor(Element.prototype, 'innerHTML');
  Object.defineProperty(Element.prototype, 'innerHTML', {
    configurable: true,
    enumerable: innerHTML.enumerable,
    get: innerHTML.get,
    set: function (html) {
      var text = String(html);
      if (this instanceof HTMLStyleElement) {
        this.textContent = text;
        return;
      }
      if (text.indexOf('style=') === -1) return innerHTML.set.call(this, html);
      innerHTML.set.call(this, renameStyles(text));
      applyStyles(this);
    },
  });
  var insertAdjacentHTML = Element.prototype.insertAdjacentHTML;
  Element.prototype.insertAdjacentHTML = function (position, html) {
    var text = String(html);
    if (text.indexOf('style=') === -1) return insertAdjacentHTML.call(this, position, html);
    insertAdjacentHTML.call(this, position, renameStyles(text));
    applyStyles(this.parentNode || this);
  };

  // A <style> element a script inserts is refused whole under the policy (even empty: Chromium reports
  // it, and gives it no sheet). Its text and its rules go to a constructed sheet adopted by the
  // document instead, for as long as the element is in the document; \`element.sheet\` is that sheet.
  var sheets = new WeakMap();
  var texts = new WeakMap();
  function adopt(sheet) {
    if (document.adoptedStyleSheets.indexOf(sheet) === -1)
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
  }
  function drop(sheet) {
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter(function (adopted) {
      return adopted !== sheet;
    });
  }
  function sheetOf(element) {
    var sheet = sheets.get(element);
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheets.set(element, sheet);
      if (element.isConnected) adopt(sheet);
    }
    return sheet;
  }
  new MutationObserver(function (records) {
    records.forEach(function (record) {
      record.addedNodes.forEach(function (node) {
        if (sheets.has(node) && node.isConnected) adopt(sheets.get(node));
      });
      record.removedNodes.forEach(function (node) {
        if (sheets.has(node) && !node.isConnected) drop(sheets.get(node));
      });
    });
  }).observe(document, { childList: true, subtree: true });
  var nativeSheet = Object.getOwnPropertyDescriptor(HTMLStyleElement.prototype, 'sheet');
  Object.defineProperty(HTMLStyleElement.prototype, 'sheet', {
    configurable: true,
    enumerable: nativeSheet.enumerable,
    get: function () {
      return nativeSheet.get.call(this) || sheetOf(this);
    },
  });
  ['innerText', 'textContent'].forEach(function (property) {
    var descriptor = Object.getOwnPropertyDescriptor(property === 'innerText' ? HTMLElement.prototype : Node.prototype, property);
    Object.defineProperty(HTMLStyleElement.prototype, property, {
      configurable: true,
      enumerable: descriptor.enumerable,
      get: function () {
        return texts.has(this) ? texts.get(this) : descriptor.get.call(this);
      },
      set: function (text) {
        texts.set(this, String(text));
        sheetOf(this).replaceSync(String(text));
      },
    });
  });

  document.addEventListener('DOMContentLoaded', function () {
    var options = JSON.parse(document.getElementById('graphiql-options').textContent);
    YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), options);
  });
})();
`;

interface Asset {
  type: string;
  body: Buffer;
  etag: string;
}

let assets: Promise<Map<string, Asset>> | undefined;

/** Loaded on the first asset asked for: 9 MB a server that never shows GraphiQL need not hold. */
function loadAssets(): Promise<Map<string, Asset>> {
  assets ??= import('@graphql-yoga/render-graphiql/graphiql').then((bundle) => {
    const files = new Map<string, Asset>();
    const add = (name: string, type: string, body: Buffer) =>
      files.set(name, { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
    const javascript = 'text/javascript; charset=utf-8';
    add('init.js', javascript, Buffer.from(INIT_SCRIPT));
    add('graphiql.js', javascript, Buffer.from(bundle.js));
    add('editor.worker.js', javascript, Buffer.from(bundle.editorWorkerService));
    add('json.worker.js', javascript, Buffer.from(bundle.jsonWorker));
    add('graphql.worker.js', javascript, Buffer.from(bundle.graphqlWorker));
    const favicon = decodeDataUrl(bundle.favicon);
    if (favicon) add('favicon.ico', favicon.type, favicon.body);
    // The stylesheet's fonts and images, from data: URLs to files next to it (relative URLs).
    let index = 0;
    const css = bundle.css.replace(/url\((['"]?)(data:[^'")]*)\1\)/g, (whole, _quote: string, url: string) => {
      const decoded = decodeDataUrl(url);
      if (!decoded) return whole;
      const name = `resource-${index++}.${extensionOf(decoded.type)}`;
      add(name, decoded.type, decoded.body);
      return `url(${name})`;
    });
    add('graphiql.css', 'text/css; charset=utf-8', Buffer.from(css));
    return files;
  });
  return assets;
}

function decodeDataUrl(url: string): { type: string; body: Buffer } | undefined {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (!match) return undefined;
  const [, type = '', parameters = '', payload = ''] = match;
  const base64 = parameters.split(';').includes('base64');
  return {
    type: type || 'text/plain',
    body: base64 ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload)),
  };
}

function extensionOf(type: string): string {
  const subtype = type.split('/')[1] ?? 'bin';
  return subtype === 'svg+xml' ? 'svg' : subtype === 'x-icon' ? 'ico' : subtype.replace(/[^a-z0-9]/gi, '');
}

/**
 * Answers a request under GRAPHIQL_ASSETS: the same files for everyone, no caller, no data, no
 * GraphQL (GraphQL itself is served on the endpoint alone, behind its authentication).
 */
export function serveGraphiQLAsset(request: IncomingMessage, response: ServerResponse, path: string): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
    response.end('Method not allowed');
    return;
  }
  void loadAssets().then(
    (files) => {
      const asset = files.get(path.slice(GRAPHIQL_ASSETS.length));
      if (!asset) {
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('Not found');
        return;
      }
      const headers = {
        'content-type': asset.type,
        'cache-control': 'no-cache',
        etag: asset.etag,
        'x-content-type-options': 'nosniff',
        // The workers run under their own response's policy.
        'content-security-policy': GRAPHIQL_CONTENT_SECURITY_POLICY,
      };
      if (request.headers['if-none-match'] === asset.etag) {
        response.writeHead(304, headers);
        response.end();
        return;
      }
      response.writeHead(200, { ...headers, 'content-length': asset.body.length });
      response.end(request.method === 'HEAD' ? undefined : asset.body);
    },
    () => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('GraphiQL is unavailable');
    },
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
