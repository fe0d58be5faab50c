// Runs tests/vectors/session.json through hub.js's ClientSession (node, no browser).
// Prints one JSON line per vector: {"name", "ok", "step", "got", "expected"}.
"use strict";
const fs = require("fs");
const vm = require("vm");
const [hubJs, vectorsPath] = process.argv.slice(2);
const context = {console};
context.globalThis = context;
vm.createContext(context);
vm.runInContext(fs.readFileSync(hubJs, "utf8"), context, {filename: hubJs});
const ClientSession = context.Signage.ClientSession;

function normalise(out, session) {
  switch (out.type) {
    case "send": return {send: JSON.parse(out.frame)};
    case "close": return {close: out.code};
    case "welcomed": return {welcomed: {resumed: out.resumed, seq: session.seq}};
    case "event": return {event: out.event.seq};
    case "notice": return {notice: out.notice.type};
    case "replied": return {replied: {id: out.id, type: out.reply.type}};
    case "action_requested": return {action_requested: out.request.action};
    case "hub_error": return {hub_error: out.error.code};
    case "notice": return {notice: out.notice.type};
    case "refused": return {refused: {code: out.error.code, final: out.final}};
    case "closed": return {closed: {final: out.final, immediate: out.immediate, unanswered: out.unanswered}};
    default: throw new Error("unexpected output " + JSON.stringify(out));
  }
}

// Key order does not matter: compare canonical JSON.
function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    const out = {};
    Object.keys(value).sort().forEach((k) => { out[k] = canonical(value[k]); });
    return out;
  }
  return value;
}

for (const vector of JSON.parse(fs.readFileSync(vectorsPath, "utf8"))) {
  const c = vector.session;
  const session = new ClientSession({role: c.role, token: c.token, client: c.client, subscribe: c.subscribe,
                                     seq: c.seq});
  let result = {name: vector.name, ok: true};
  vector.steps.forEach((step, number) => {
    if (!result.ok) return;
    let outputs;
    if ("start" in step) outputs = session.start(0);
    else if ("receive" in step) outputs = session.receive(JSON.stringify(step.receive));
    else if ("receive_raw" in step) outputs = session.receive(step.receive_raw);
    else if ("request" in step) outputs = session.request(step.request);
    else outputs = session.connectionClosed(step.closed, "", step.http_status);
    const got = JSON.stringify(canonical(outputs.map((o) => normalise(o, session))));
    const expected = JSON.stringify(canonical(step.expect));
    if (got !== expected) result = {name: vector.name, ok: false, step: number, got, expected};
  });
  console.log(JSON.stringify(result));
}
