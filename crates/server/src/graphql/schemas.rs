//! The GraphQL schema of each role, built on first use and kept with the schema cache it was
//! built from, so a metadata change (a new cache) naturally drops every role's schema.

use crate::state::SchemaCache;
use axum::body::Bytes;
use graft_gql::apollo_compiler::Schema;
use graft_gql::apollo_compiler::validation::Valid;
use graft_gql::{GqlError, GqlSchemaError, PreparedDocument, SchemaOptions, schema_for_role};
use graft_metadata::DEFAULT_SOURCE;
use graft_schema::Session;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub type RoleSchema = Arc<Valid<Schema>>;

#[derive(Default)]
pub struct RoleSchemas {
    options: SchemaOptions,
    built: Mutex<HashMap<(String, bool), RoleSchema>>,
    /// Answers to introspection-only requests without variables, by role and document: tools
    /// send the same large introspection query again and again.
    introspection: Mutex<HashMap<IntrospectionKey, Bytes>>,
    /// Documents that passed validation, by their text: parsing and validating is most of the
    /// CPU a small query costs graft, and clients send the same few documents again and again.
    documents: Mutex<HashMap<String, Vec<DocumentEntry>>>,
}

/// One validated document: whose schema it was checked against, and the operation picked.
struct DocumentEntry {
    role: String,
    backend_only: bool,
    operation_name: Option<String>,
    prepared: PreparedDocument,
}

/// Validated documents kept per schema cache (entries, over all texts and roles).
const DOCUMENT_CACHE_LIMIT: usize = 1024;
/// Longer documents are validated every time rather than kept (generated one-offs).
const DOCUMENT_CACHE_MAX_TEXT: usize = 64 * 1024;

/// (role, document, operation name) of an introspection request.
pub type IntrospectionKey = (String, String, Option<String>);

/// Distinct introspection documents kept per schema cache.
const INTROSPECTION_CACHE_LIMIT: usize = 256;

impl RoleSchemas {
    pub fn new(options: SchemaOptions) -> Self {
        RoleSchemas {
            options,
            built: Mutex::new(HashMap::new()),
            introspection: Mutex::new(HashMap::new()),
            documents: Mutex::new(HashMap::new()),
        }
    }

    pub fn options(&self) -> &SchemaOptions {
        &self.options
    }
}

/// The schema a session sees: its role's, with backend-only permissions only for admin-secret
/// requests that ask for them (`x-hasura-use-backend-only-permissions: true`).
pub fn for_session(cache: &SchemaCache, session: &Session) -> Result<RoleSchema, GqlSchemaError> {
    for_role(cache, &session.role, sees_backend_only(session))
}

/// Whether the session gets the schema with backend-only permissions: admin credentials and
/// `x-hasura-use-backend-only-permissions: true`.
pub fn sees_backend_only(session: &Session) -> bool {
    session.has_admin_credentials
        && session
            .variable("x-hasura-use-backend-only-permissions")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `query` parsed and validated against `schema` (the session's, from [`for_session`]), with
/// its operation picked: from the cache when the same document came before for the same role.
/// Only documents that passed are kept; a failing one is checked again each time.
pub fn prepared_document(
    cache: &SchemaCache,
    session: &Session,
    schema: &RoleSchema,
    query: &str,
    operation_name: Option<&str>,
) -> Result<PreparedDocument, Vec<GqlError>> {
    let backend_only = sees_backend_only(session);
    let matches = |entry: &&DocumentEntry| {
        entry.role == session.role
            && entry.backend_only == backend_only
            && entry.operation_name.as_deref() == operation_name
    };
    let documents = &cache.role_schemas.documents;
    if let Some(found) = documents.lock().ok().and_then(|map| {
        map.get(query)
            .and_then(|entries| entries.iter().find(matches).map(|e| e.prepared.clone()))
    }) {
        return Ok(found);
    }
    let prepared = graft_gql::prepare_document(schema, query, operation_name)?;
    if query.len() <= DOCUMENT_CACHE_MAX_TEXT
        && let Ok(mut map) = documents.lock()
    {
        if map.values().map(Vec::len).sum::<usize>() >= DOCUMENT_CACHE_LIMIT {
            map.clear();
        }
        map.entry(query.to_string())
            .or_default()
            .push(DocumentEntry {
                role: session.role.clone(),
                backend_only,
                operation_name: operation_name.map(str::to_string),
                prepared: prepared.clone(),
            });
    }
    Ok(prepared)
}

/// The role's schema from the cache, building it if needed. Building happens outside the
/// lock; two racing requests may both build, and the second result wins harmlessly.
fn for_role(
    cache: &SchemaCache,
    role: &str,
    backend_only: bool,
) -> Result<RoleSchema, GqlSchemaError> {
    let key = (role.to_string(), backend_only);
    if let Some(schema) = cache
        .role_schemas
        .built
        .lock()
        .ok()
        .and_then(|map| map.get(&key).cloned())
    {
        return Ok(schema);
    }
    let schema = if backend_only {
        let mut options = cache.role_schemas.options.clone();
        options.use_backend_only_permissions = true;
        schema_for_role(&cache.model, role, &options)?
    } else {
        schema_for_role(&cache.model, role, &cache.role_schemas.options)?
    };
    let schema = Arc::new(schema);
    if let Ok(mut map) = cache.role_schemas.built.lock() {
        map.insert(key, schema.clone());
    }
    Ok(schema)
}

/// Options for the default source: enum tables' rows and the columns that reference them.
pub async fn schema_options(
    model: &graft_schema::Model,
    catalogs: &HashMap<String, graft_catalog::DbCatalog>,
    pools: &HashMap<String, graft_execute::Pool>,
) -> SchemaOptions {
    let mut options = SchemaOptions::default();
    let (Some(source), Some(catalog), Some(pool)) = (
        model.source(DEFAULT_SOURCE),
        catalogs.get(DEFAULT_SOURCE),
        pools.get(DEFAULT_SOURCE),
    ) else {
        return options;
    };
    for table in source.tables.values().filter(|t| t.is_enum) {
        match enum_rows(pool, table).await {
            Ok(rows) => {
                options.enum_values.insert(table.name.clone(), rows);
            }
            Err(error) => {
                tracing::warn!(table = %table.name, %error, "could not read the values of an enum table")
            }
        }
    }
    let tables: Vec<graft_catalog::Table> = catalog.tables.values().cloned().collect();
    options.with_enum_references(model, &tables)
}

/// `SELECT value, comment FROM enum_table`: the primary key and the optional comment column.
async fn enum_rows(
    pool: &graft_execute::Pool,
    table: &graft_schema::TableModel,
) -> Result<Vec<(String, Option<String>)>, String> {
    let Some(key) = table.primary_key.first() else {
        return Err("no primary key".to_string());
    };
    let comment = table.columns.keys().find(|c| *c != key);
    let quote = |name: &str| graft_sql::quote_identifier(name).map_err(|e| e.to_string());
    let comment_sql = match comment {
        Some(c) => format!("{}::text", quote(c)?),
        None => "NULL::text".to_string(),
    };
    let sql = format!(
        "SELECT {key}::text, {comment_sql} FROM {schema}.{name} ORDER BY 1",
        key = quote(key)?,
        schema = quote(&table.name.schema)?,
        name = quote(&table.name.name)?,
    );
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let rows = client.query(&sql, &[]).await.map_err(|e| e.to_string())?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<_, String>(0).map_err(|e| e.to_string())?,
                row.try_get::<_, Option<String>>(1)
                    .map_err(|e| e.to_string())?,
            ))
        })
        .collect()
}

/// A cached introspection answer for this role and document.
pub fn cached_introspection(cache: &SchemaCache, key: &IntrospectionKey) -> Option<Bytes> {
    cache
        .role_schemas
        .introspection
        .lock()
        .ok()
        .and_then(|map| map.get(key).cloned())
}

pub fn store_introspection(cache: &SchemaCache, key: IntrospectionKey, answer: Bytes) {
    if let Ok(mut map) = cache.role_schemas.introspection.lock() {
        if map.len() >= INTROSPECTION_CACHE_LIMIT {
            map.clear();
        }
        map.insert(key, answer);
    }
}
