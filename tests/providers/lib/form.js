'use strict';
// Stripe's application/x-www-form-urlencoded nesting (Rack's rules):
//   a=1                  {a: "1"}
//   a[b]=1               {a: {b: "1"}}
//   a[]=1&a[]=2          {a: ["1", "2"]}
//   a[0][c]=1&a[1][c]=2  {a: {"0": {c: "1"}, "1": {c: "2"}}}  (made an array
//                        by the schema walk when the schema says array)
// Every leaf is a string; the schema walk gives it its type.

class FormError extends Error {
  constructor(message, param) { super(message); this.param = param; }
}

function splitKey(key) {
  // "a[b][0][]" -> ["a", "b", "0", ""]
  const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!m) throw new FormError(`Invalid parameter name: ${key}`, key);
  const parts = [m[1]];
  const re = /\[([^[\]]*)\]/g;
  let g;
  while ((g = re.exec(m[2])) !== null) parts.push(g[1]);
  return parts;
}

function paramName(parts) {
  return parts[0] + parts.slice(1).map((p) => `[${p}]`).join('');
}

function decodeForm(raw) {
  const out = Object.create(null);
  if (!raw) return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const dec = (s) => {
      try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { throw new FormError(`Invalid URL encoding: ${s}`, null); }
    };
    const key = dec(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : dec(pair.slice(eq + 1));
    const parts = splitKey(key);
    let node = out;
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      const k = parts[i];
      const name = paramName(parts.slice(0, i + 1));
      if (k === '') {
        // a[] : append to an array
        if (!Array.isArray(node)) throw new FormError(`Invalid array: ${name}`, name);
        if (last) { node.push(value); break; }
        // a[][b]=..: Rack starts a new element when b is already set in the last one
        let el = node[node.length - 1];
        const nextKey = parts[i + 1];
        if (!el || typeof el !== 'object' || Array.isArray(el) || (parts.length === i + 2 && nextKey in el)) {
          el = Object.create(null); node.push(el);
        }
        node = el;
        continue;
      }
      if (Array.isArray(node)) throw new FormError(`Invalid hash: ${paramName(parts.slice(0, i))} is an array`, paramName(parts.slice(0, i)));
      if (last) {
        if (k in node && typeof node[k] === 'object') throw new FormError(`Invalid string: ${name} is also given as a hash`, name);
        node[k] = value;
        break;
      }
      const wantArray = parts[i + 1] === '';
      if (!(k in node)) node[k] = wantArray ? [] : Object.create(null);
      else if (typeof node[k] !== 'object') throw new FormError(`Invalid hash: ${name} is also given as a string`, name);
      node = node[k];
    }
  }
  return out;
}

// The inverse, for tests and tools: {a: {b: [1, {c: 2}]}} ->
// "a[b][0]=1&a[b][1][c]=2" (indexed arrays, as stripe-node sends them).
function encodeForm(obj) {
  const pairs = [];
  const walk = (prefix, v) => {
    if (v === undefined) return;
    if (v !== null && typeof v === 'object') {
      const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
      if (entries.length === 0 && !Array.isArray(v)) { pairs.push(`${encodeURIComponent(prefix)}=`); return; }
      for (const [k, x] of entries) walk(prefix ? `${prefix}[${k}]` : k, x);
      return;
    }
    pairs.push(`${encodeURIComponent(prefix)}=${encodeURIComponent(v === null ? '' : String(v))}`);
  };
  walk('', obj);
  return pairs.join('&');
}

module.exports = { decodeForm, encodeForm, FormError, paramName };
