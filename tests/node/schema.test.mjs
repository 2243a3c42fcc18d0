// A real client validates graft's schema: the introspection result graft returns is loaded into
// graphql-js (`buildClientSchema`) and checked with `validateSchema`, for the admin and for a
// restricted role. The metadata exercises what makes Hasura schemas large and easy to get wrong:
// relationships both ways, aggregates, an enum table, a computed field, a tracked function, an
// action with custom types, and column permissions that hide part of a table.
//
// Needs a running graft with an admin secret: GRAFT_URL and GRAFT_ADMIN_SECRET (see run.sh).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildClientSchema,
  getIntrospectionQuery,
  validateSchema,
  printSchema,
  validate,
  parse,
} from 'graphql';

const BASE = (process.env.GRAFT_URL ?? '').replace(/\/$/, '');
const SECRET = process.env.GRAFT_ADMIN_SECRET;
const TEST_TIMEOUT = { timeout: 60000 };

async function post(path, body, headers = {}) {
  const response = await fetch(BASE + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hasura-admin-secret': SECRET, ...headers },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  assert.equal(response.status, 200, `${path}: ${JSON.stringify(json)}`);
  return json;
}

const SQL = `
CREATE TABLE schema_color (value text PRIMARY KEY, comment text);
INSERT INTO schema_color VALUES ('red', 'Red'), ('blue', 'Blue');
CREATE TABLE schema_author (
  id serial PRIMARY KEY, name text NOT NULL, email text, born date, rating numeric,
  tags text[], extra jsonb, favourite_color text REFERENCES schema_color(value));
COMMENT ON TABLE schema_author IS 'People who write';
COMMENT ON COLUMN schema_author.name IS 'Full name';
CREATE TABLE schema_article (
  id bigserial PRIMARY KEY, author_id int NOT NULL REFERENCES schema_author(id),
  title text NOT NULL, published boolean NOT NULL DEFAULT false, created_at timestamptz DEFAULT now(),
  uid uuid);
CREATE FUNCTION schema_author_full(a schema_author) RETURNS text
  LANGUAGE sql STABLE AS $$ SELECT a.name || ' <' || coalesce(a.email, '') || '>' $$;
CREATE FUNCTION schema_search_articles(search text) RETURNS SETOF schema_article
  LANGUAGE sql STABLE AS $$ SELECT * FROM schema_article WHERE title ILIKE '%' || search || '%' $$;
`;

before(async () => {
  await post('/v2/query', { type: 'run_sql', args: { sql: SQL } });
  await post('/v1/metadata', {
    type: 'bulk',
    args: [
      { type: 'pg_track_table', args: { table: 'schema_color' } },
      { type: 'pg_set_table_is_enum', args: { table: 'schema_color', is_enum: true } },
      { type: 'pg_track_table', args: { table: 'schema_author' } },
      { type: 'pg_track_table', args: { table: 'schema_article' } },
      { type: 'pg_track_function', args: { function: 'schema_search_articles' } },
      {
        type: 'pg_create_object_relationship',
        args: { table: 'schema_article', name: 'author', using: { foreign_key_constraint_on: 'author_id' } },
      },
      {
        type: 'pg_create_array_relationship',
        args: {
          table: 'schema_author',
          name: 'articles',
          using: { foreign_key_constraint_on: { table: 'schema_article', column: 'author_id' } },
        },
      },
      {
        type: 'pg_add_computed_field',
        args: { table: 'schema_author', name: 'full', definition: { function: 'schema_author_full' } },
      },
      {
        type: 'pg_create_select_permission',
        args: {
          table: 'schema_author',
          role: 'reader',
          permission: { columns: ['id', 'name'], filter: {}, allow_aggregations: false },
        },
      },
      {
        type: 'pg_create_select_permission',
        args: {
          table: 'schema_article',
          role: 'reader',
          permission: {
            columns: ['id', 'title', 'author_id'],
            filter: { published: { _eq: true } },
            allow_aggregations: true,
          },
        },
      },
      {
        type: 'pg_create_insert_permission',
        args: {
          table: 'schema_article',
          role: 'reader',
          permission: { columns: ['title'], check: { author_id: { _eq: 'X-Hasura-User-Id' } }, set: { author_id: 'X-Hasura-User-Id' } },
        },
      },
      {
        type: 'set_custom_types',
        args: {
          objects: [
            {
              name: 'SchemaGreeting',
              fields: [
                { name: 'message', type: 'String!' },
                { name: 'author_id', type: 'Int' },
              ],
              relationships: [
                { name: 'author', type: 'object', remote_table: 'schema_author', field_mapping: { author_id: 'id' } },
              ],
            },
          ],
          input_objects: [{ name: 'SchemaGreetInput', fields: [{ name: 'name', type: 'String!' }] }],
        },
      },
      {
        type: 'create_action',
        args: {
          name: 'schemaGreet',
          definition: {
            kind: 'synchronous',
            type: 'mutation',
            arguments: [{ name: 'input', type: 'SchemaGreetInput!' }],
            output_type: 'SchemaGreeting',
            handler: 'http://127.0.0.1:9/greet',
          },
        },
      },
      { type: 'create_action_permission', args: { action: 'schemaGreet', role: 'reader' } },
    ],
  });
});

async function introspect(headers) {
  const result = await post('/v1/graphql', { query: getIntrospectionQuery({ descriptions: true }) }, headers);
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data;
}

function buildAndValidate(data) {
  const schema = buildClientSchema(data);
  const errors = validateSchema(schema);
  assert.deepEqual(
    errors.map((e) => e.message),
    [],
    'graphql-js finds the schema invalid',
  );
  // Printing walks every type and field: a dangling reference would throw here.
  assert.ok(printSchema(schema).length > 0);
  return schema;
}

test('the admin schema is valid for graphql-js', TEST_TIMEOUT, async () => {
  const schema = buildAndValidate(await introspect({}));
  const query = schema.getQueryType().getFields();
  for (const field of ['schema_author', 'schema_author_by_pk', 'schema_author_aggregate', 'schema_search_articles']) {
    assert.ok(query[field], `query_root has ${field}`);
  }
  assert.equal(schema.getType('schema_author').description, 'People who write');
  assert.equal(schema.getType('schema_author').getFields().name.description, 'Full name');
  assert.deepEqual(
    schema.getType('schema_color_enum').getValues().map((v) => v.name).sort(),
    ['blue', 'red'],
  );
  const document = parse(`
    query {
      schema_author(where: {articles: {published: {_eq: true}}}, order_by: {name: asc}) {
        id full favourite_color
        articles_aggregate { aggregate { count max { created_at } } }
      }
    }`);
  assert.deepEqual(validate(schema, document).map((e) => e.message), []);
});

test('a restricted role sees a smaller schema, still valid for graphql-js', TEST_TIMEOUT, async () => {
  const schema = buildAndValidate(await introspect({ 'x-hasura-role': 'reader', 'x-hasura-user-id': '1' }));
  const authorFields = Object.keys(schema.getType('schema_author').getFields()).sort();
  // Articles are readable and aggregatable by the role, so the relationship and its aggregate show.
  assert.deepEqual(authorFields, ['articles', 'articles_aggregate', 'id', 'name']);
  const query = schema.getQueryType().getFields();
  assert.ok(query.schema_article_aggregate, 'reader may aggregate articles');
  assert.equal(query.schema_author_aggregate, undefined, 'reader may not aggregate authors');
  assert.equal(schema.getType('schema_color'), undefined, 'reader cannot see the enum table');
  const mutation = schema.getMutationType().getFields();
  assert.ok(mutation.insert_schema_article, 'reader may insert articles');
  assert.ok(mutation.schemaGreet, 'reader may call the action');
  assert.equal(mutation.delete_schema_article, undefined, 'reader may not delete');
  const hidden = parse('query { schema_author { email } }');
  assert.equal(validate(schema, hidden).length, 1, 'a hidden column is not in the schema');
});
