// Subscribes to a running graft with the two GraphQL-over-WebSocket client libraries that real
// front ends use, unchanged: `graphql-ws` (protocol `graphql-transport-ws`) and Apollo's
// `subscriptions-transport-ws` (protocol `graphql-ws`). Each one opens a live query on an empty
// table, inserts rows through a mutation sent over the same socket, and must receive the
// initial result and then every updated result. Auth goes in `connection_init`
// (`payload.headers`), as Hasura clients send it.
//
// Needs a running graft with an admin secret: GRAFT_URL (e.g. http://127.0.0.1:8080) and
// GRAFT_ADMIN_SECRET. `run.sh` beside this file starts one with its embedded database.
// Run with plain `node subscriptions.test.mjs` (node's built-in test runner).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import transportWs from 'subscriptions-transport-ws';

const { SubscriptionClient } = transportWs;

const BASE = (process.env.GRAFT_URL ?? '').replace(/\/$/, '');
const SECRET = process.env.GRAFT_ADMIN_SECRET;
const WS_URL = BASE.replace(/^http/, 'ws') + '/v1/graphql';
// A guard against hangs, not a performance bound: one refetch interval is far shorter.
const FRAME_TIMEOUT_MS = 15000;

// No test may hang: each one fails after this long.
const TEST_TIMEOUT = { timeout: 60000 };

const adminHeaders = SECRET ? { 'X-Hasura-Admin-Secret': SECRET } : {};

async function post(path, body) {
  const response = await fetch(BASE + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...adminHeaders },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  assert.equal(response.status, 200, `${path}: ${JSON.stringify(json)}`);
  return json;
}

async function waitHealthy() {
  const deadline = Date.now() + 90000;
  for (;;) {
    try {
      const response = await fetch(BASE + '/healthz');
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`graft at ${BASE} is not healthy`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Values pushed by a subscription, awaited one at a time. */
class Pushes {
  constructor() {
    this.values = [];
    this.waiters = [];
    this.failure = null;
  }
  push(value) {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(value);
    else this.values.push(value);
  }
  fail(error) {
    this.failure = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
  next(what) {
    if (this.values.length > 0) return Promise.resolve(this.values.shift());
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${what} within ${FRAME_TIMEOUT_MS} ms`)),
        FRAME_TIMEOUT_MS,
      );
      this.waiters.push({
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }
}

function describeError(error) {
  if (Array.isArray(error)) return JSON.stringify(error);
  if (error && typeof error === 'object' && 'code' in error) return `closed ${error.code} ${error.reason}`;
  return String(error?.message ?? error);
}

const TABLES = ['node_graphql_ws_item', 'node_transport_ws_item'];

before(async () => {
  assert.ok(BASE, 'set GRAFT_URL to a running graft');
  await waitHealthy();
  const sql = TABLES.map(
    (t) => `drop table if exists public.${t}; create table public.${t} (id serial primary key, name text not null);`,
  ).join('\n');
  await post('/v1/query', {
    type: 'bulk',
    args: [
      { type: 'run_sql', args: { sql } },
      ...TABLES.map((name) => ({ type: 'track_table', args: { schema: 'public', name } })),
    ],
  });
});

const liveQuery = (table) => `subscription { ${table}(order_by: {id: asc}) { id name } }`;
const insert = (table) =>
  `mutation ($name: String!) { insert_${table}(objects: [{name: $name}]) { affected_rows returning { id name } } }`;

/** The common story: initial empty result, then one update per inserted row. */
async function liveQueryStory(table, { subscribe, request }) {
  const pushes = new Pushes();
  const stop = subscribe({ query: liveQuery(table) }, pushes);
  try {
    assert.deepEqual(await pushes.next('initial result'), { data: { [table]: [] } });
    const rows = [];
    for (const name of ['first', 'second']) {
      const inserted = await request({ query: insert(table), variables: { name } });
      const row = { id: rows.length + 1, name };
      rows.push(row);
      assert.deepEqual(inserted, {
        data: { [`insert_${table}`]: { affected_rows: 1, returning: [row] } },
      });
      assert.deepEqual(await pushes.next(`result after inserting ${name}`), {
        data: { [table]: rows },
      });
    }
  } finally {
    stop();
  }
}

test('graphql-ws (graphql-transport-ws): live query follows inserts', TEST_TIMEOUT, async () => {
  const client = createClient({
    url: WS_URL,
    webSocketImpl: WebSocket,
    connectionParams: { headers: adminHeaders },
    retryAttempts: 0,
  });
  try {
    await liveQueryStory('node_graphql_ws_item', {
      subscribe: (payload, pushes) =>
        client.subscribe(payload, {
          next: (value) => pushes.push(value),
          error: (error) => pushes.fail(new Error(describeError(error))),
          complete: () => {},
        }),
      request: (payload) =>
        new Promise((resolve, reject) => {
          let result;
          client.subscribe(payload, {
            next: (value) => (result = value),
            error: (error) => reject(new Error(describeError(error))),
            complete: () => resolve(result),
          });
        }),
    });
  } finally {
    await client.dispose();
  }
});

test('graphql-ws: a subscription with two root fields is an error', TEST_TIMEOUT, async () => {
  const client = createClient({
    url: WS_URL,
    webSocketImpl: WebSocket,
    connectionParams: { headers: adminHeaders },
    retryAttempts: 0,
  });
  try {
    const outcome = await new Promise((resolve) => {
      client.subscribe(
        { query: 'subscription { a: node_graphql_ws_item { id } b: node_graphql_ws_item { id } }' },
        {
          next: (value) => resolve({ next: value }),
          error: (error) => resolve({ error }),
          complete: () => resolve({ complete: true }),
        },
      );
    });
    assert.ok(Array.isArray(outcome.error), `expected GraphQL errors, got ${JSON.stringify(outcome)}`);
    assert.ok(outcome.error.length > 0);
  } finally {
    await client.dispose();
  }
});

test('subscriptions-transport-ws (graphql-ws): live query follows inserts', TEST_TIMEOUT, async () => {
  const client = new SubscriptionClient(
    WS_URL,
    { reconnect: false, connectionParams: { headers: adminHeaders } },
    WebSocket,
  );
  try {
    await liveQueryStory('node_transport_ws_item', {
      subscribe: (payload, pushes) => {
        const subscription = client.request(payload).subscribe({
          next: (value) => pushes.push(value),
          error: (error) => pushes.fail(new Error(describeError(error))),
        });
        return () => subscription.unsubscribe();
      },
      request: (payload) =>
        new Promise((resolve, reject) => {
          let result;
          client.request(payload).subscribe({
            next: (value) => (result = value),
            error: (error) => reject(new Error(describeError(error))),
            complete: () => resolve(result),
          });
        }),
    });
  } finally {
    client.close();
  }
});

test('both libraries: a wrong admin secret gets no data', TEST_TIMEOUT, async () => {
  assert.ok(SECRET, 'this test needs a graft with an admin secret: set GRAFT_ADMIN_SECRET');
  const wrong = { headers: { 'X-Hasura-Admin-Secret': `not-${SECRET}` } };
  const modern = createClient({ url: WS_URL, webSocketImpl: WebSocket, connectionParams: wrong, retryAttempts: 0 });
  const modernOutcome = await new Promise((resolve) => {
    modern.subscribe(
      { query: liveQuery('node_graphql_ws_item') },
      { next: (value) => resolve({ next: value }), error: (error) => resolve({ error }), complete: () => resolve({}) },
    );
  });
  await modern.dispose();
  assert.ok(modernOutcome.error, `graphql-ws got ${JSON.stringify(modernOutcome)}`);

  let legacy;
  const legacyOutcome = await new Promise((resolve) => {
    legacy = new SubscriptionClient(
      WS_URL,
      { reconnect: false, connectionParams: wrong, connectionCallback: (error) => error && resolve({ connectionError: error }) },
      WebSocket,
    );
    legacy.onError((error) => resolve({ error }));
    legacy.onDisconnected(() => resolve({ disconnected: true }));
    legacy.request({ query: liveQuery('node_transport_ws_item') }).subscribe({
      next: (value) => resolve({ next: value }),
      error: (error) => resolve({ error }),
    });
  });
  legacy.close();
  assert.ok(!legacyOutcome.next, `subscriptions-transport-ws got data: ${JSON.stringify(legacyOutcome)}`);
});
