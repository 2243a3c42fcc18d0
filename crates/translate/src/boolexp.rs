//! Boolean expressions (`BoolExp`: permission filters and checks, client `where`) → a SQL
//! condition on a table alias.
//!
//! A condition through a relationship becomes `EXISTS (SELECT 1 FROM target WHERE <mapping> AND
//! <predicate>)`, so it never multiplies rows. Literals are parameters cast to the column's type
//! (`$3::"pg_catalog"."int4"`); session variables are read from the session parameter,
//! `($1::json->>'x-hasura-user-id')::"pg_catalog"."int4"`, so the SQL text is the same for every
//! user of a role.

use crate::value::{ParamFormat, param_text};
use graft_catalog::{PgType, PgTypeKind};
use graft_metadata::QualifiedTable;
use graft_schema::Session;
use graft_schema::{BoolExp, ComparisonOp, ComputedCall, ComputedResult, Operand};
use graft_sql::Params;
use graft_sql::ast::{
    AliasGenerator, ColumnAlias, ColumnName, Expr, From, FunctionCall, FunctionName, Op,
    Quantifier, Select, TableAlias, TableName, TypeName,
};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// Everything a translation into SQL threads through: the parameter list (whose `$1` is the
/// session), the alias counter, and the session parameter's expression.
pub struct SqlContext {
    pub params: Params,
    pub aliases: AliasGenerator,
    session: Expr,
    /// The session variables the statement reads, or `None` once something reads them all (a
    /// function's session argument).
    session_reads: RefCell<Option<BTreeSet<String>>>,
}

impl SqlContext {
    /// A fresh statement whose first parameter is the session variables as one JSON text
    /// (`Session::variables_json`).
    pub fn new(session_json: String) -> Self {
        let mut params = Params::new();
        let session = params.push(Some(session_json));
        SqlContext {
            params,
            aliases: AliasGenerator::new(),
            session,
            session_reads: RefCell::new(Some(BTreeSet::new())),
        }
    }

    /// `$1::json`: all session variables, for a function's session argument.
    pub fn session_json(&self) -> Expr {
        *self.session_reads.borrow_mut() = None;
        cast(self.session.clone(), TypeName::new("json"))
    }

    /// `($1::json->>'name')`: one session variable, as text.
    pub fn session_variable(&self, name: &str) -> Expr {
        if let Some(reads) = self.session_reads.borrow_mut().as_mut() {
            reads.insert(name.to_string());
        }
        Expr::BinaryOp {
            left: Box::new(Expr::Cast {
                expr: Box::new(self.session.clone()),
                ty: TypeName::new("json"),
            }),
            op: Op::JsonGetText,
            right: Box::new(Expr::StringLiteral(name.to_string())),
        }
    }

    /// Narrows the session parameter to the variables the statement reads. The SQL cannot tell
    /// the difference, and two users whose sessions differ only in variables a query ignores
    /// then send equal parameters: one live-query cohort serves both.
    pub fn keep_only_read_session_variables(&mut self, session: &Session) {
        let Some(reads) = self.session_reads.get_mut().as_ref() else {
            return;
        };
        let read: serde_json::Map<String, serde_json::Value> = session
            .variables
            .iter()
            .filter(|(name, _)| reads.contains(name.as_str()))
            .map(|(name, value)| (name.clone(), serde_json::Value::String(value.clone())))
            .collect();
        if let Expr::Param(index) = self.session {
            self.params
                .replace(index, Some(serde_json::Value::Object(read).to_string()));
        }
    }

    /// A JSON value as a parameter cast to `ty`, written in `format`.
    pub fn literal(
        &mut self,
        value: &serde_json::Value,
        ty: TypeName,
        format: ParamFormat,
    ) -> Expr {
        let text = param_text(value, format);
        cast(self.params.push(text), ty)
    }

    /// A JSON value as a parameter cast to a column's type. PostGIS values arrive as GeoJSON
    /// objects: `ST_GeomFromGeoJSON($2::text)::"public"."geography"`.
    pub fn column_literal(&mut self, value: &serde_json::Value, pg_type: &PgType) -> Expr {
        if is_postgis(pg_type) && value.is_object() {
            let text = self.literal(value, TypeName::new("text"), ParamFormat::Json);
            let geometry = Expr::FunctionCall(Box::new(graft_sql::FunctionCall::new(
                graft_sql::FunctionName::Builtin("ST_GeomFromGeoJSON"),
                vec![text],
            )));
            return cast(geometry, type_name(pg_type));
        }
        self.literal(value, type_name(pg_type), format_of(pg_type))
    }
}

/// Where a condition is evaluated: the row it is about, and the row of the whole expression
/// (`["$", "col"]` operands).
#[derive(Debug, Clone)]
pub struct Scope {
    pub current: TableAlias,
    pub root: TableAlias,
}

impl Scope {
    pub fn root(alias: &TableAlias) -> Self {
        Scope {
            current: alias.clone(),
            root: alias.clone(),
        }
    }
}

pub fn table_name(table: &QualifiedTable) -> TableName {
    TableName::new(&table.schema, &table.name)
}

/// PostGIS's geometry and geography types, whose JSON form is GeoJSON.
pub fn is_postgis(pg_type: &PgType) -> bool {
    matches!(pg_type.underlying().name.as_str(), "geometry" | "geography")
}

/// The type of a column, schema-qualified (`"pg_catalog"."int4"`, `"public"."mood"`).
pub fn type_name(pg_type: &PgType) -> TypeName {
    TypeName::qualified(&pg_type.schema, &pg_type.name)
}

/// How values of a column's type are written: JSON for json/jsonb, array literals for arrays.
pub fn format_of(pg_type: &PgType) -> ParamFormat {
    let underlying = pg_type.underlying();
    if is_json(underlying) {
        ParamFormat::Json
    } else if underlying.kind == PgTypeKind::Array {
        ParamFormat::Array
    } else {
        ParamFormat::Text
    }
}

/// How a list of values of a column's type is written (`_in`, `_ancestor_any`).
fn list_format_of(pg_type: &PgType) -> ParamFormat {
    if is_json(pg_type.underlying()) {
        ParamFormat::JsonArray
    } else {
        ParamFormat::Array
    }
}

fn is_json(pg_type: &PgType) -> bool {
    pg_type.schema == "pg_catalog" && matches!(pg_type.name.as_str(), "json" | "jsonb")
}

pub fn column(alias: &TableAlias, name: &str) -> Expr {
    Expr::Column {
        table: Some(alias.clone()),
        column: ColumnName::new(name),
    }
}

pub fn cast(expr: Expr, ty: TypeName) -> Expr {
    Expr::Cast {
        expr: Box::new(expr),
        ty,
    }
}

fn binary(left: Expr, op: Op, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

/// `"parent"."a" = "child"."b" AND ...` for a relationship's column mapping.
pub fn join_condition(
    parent: &TableAlias,
    child: &TableAlias,
    mapping: &[(String, String)],
) -> Vec<Expr> {
    mapping
        .iter()
        .map(|(this, that)| binary(column(parent, this), Op::Eq, column(child, that)))
        .collect()
}

/// `a AND b`, without the wrapping for zero or one part.
pub fn and(mut parts: Vec<Expr>) -> Expr {
    parts.retain(|p| *p != Expr::Bool(true));
    if parts.len() == 1 {
        parts.remove(0)
    } else if parts.is_empty() {
        Expr::Bool(true)
    } else {
        Expr::And(parts)
    }
}

/// `None` when the condition is always true, so no `WHERE true` is printed.
pub fn where_clause(exp: &BoolExp, scope: &Scope, ctx: &mut SqlContext) -> Option<Expr> {
    match translate(exp, scope, ctx) {
        Expr::Bool(true) => None,
        other => Some(other),
    }
}

pub fn translate(exp: &BoolExp, scope: &Scope, ctx: &mut SqlContext) -> Expr {
    match exp {
        BoolExp::And(items) => and(items.iter().map(|i| translate(i, scope, ctx)).collect()),
        BoolExp::Or(items) => match items.as_slice() {
            [single] => translate(single, scope, ctx),
            _ => Expr::Or(items.iter().map(|i| translate(i, scope, ctx)).collect()),
        },
        BoolExp::Not(inner) => Expr::Not(Box::new(translate(inner, scope, ctx))),
        BoolExp::Column {
            column: name,
            pg_type,
            op,
        } => {
            let target = column(&scope.current, name);
            comparison(target, pg_type, op.op, &op.value, scope, ctx)
        }
        BoolExp::Relationship {
            target,
            mapping,
            predicate,
        } => {
            let alias = ctx.aliases.next_alias();
            let mut conditions = join_condition(&scope.current, &alias, mapping);
            let inner = Scope {
                current: alias.clone(),
                root: scope.root.clone(),
            };
            conditions.push(translate(predicate, &inner, ctx));
            exists(target, alias, and(conditions))
        }
        BoolExp::Exists { table, predicate } => {
            let alias = ctx.aliases.next_alias();
            let inner = Scope {
                current: alias.clone(),
                root: scope.root.clone(),
            };
            let condition = translate(predicate, &inner, ctx);
            exists(table, alias, condition)
        }
        BoolExp::ComputedField { call, result } => {
            let function_call = computed_call(call, &scope.current, ctx);
            match result {
                ComputedResult::Scalar { pg_type, op } => {
                    let target = Expr::FunctionCall(Box::new(function_call));
                    comparison(target, pg_type, op.op, &op.value, scope, ctx)
                }
                ComputedResult::Rows { predicate, .. } => {
                    let alias = ctx.aliases.next_alias();
                    let inner = Scope {
                        current: alias.clone(),
                        root: scope.root.clone(),
                    };
                    let condition = translate(predicate, &inner, ctx);
                    let mut select = Select::new(vec![(Expr::Int(1), ColumnAlias::new("one"))]);
                    select.from = Some(From::Function {
                        call: function_call,
                        with_ordinality: false,
                        alias,
                        columns: Vec::new(),
                        lateral: false,
                    });
                    select.where_ = match condition {
                        Expr::Bool(true) => None,
                        other => Some(other),
                    };
                    Expr::Exists(Box::new(select))
                }
            }
        }
    }
}

/// `"public"."get_articles"("_t0", $1::json)`: a computed field's function for the row `row`.
pub fn computed_call(call: &ComputedCall, row: &TableAlias, ctx: &mut SqlContext) -> FunctionCall {
    let args = (0..call.argument_count)
        .map(|i| {
            if i == call.table_argument {
                Expr::TableRow(row.clone())
            } else if Some(i) == call.session_argument {
                ctx.session_json()
            } else {
                Expr::Null
            }
        })
        .collect();
    FunctionCall::new(
        FunctionName::Qualified {
            schema: Some(call.function.schema.clone()),
            name: call.function.name.clone(),
        },
        args,
    )
}

/// A PostGIS operand: GeoJSON (literal or session variable) made a geometry of the column's type.
fn geo_operand(
    value: &serde_json::Value,
    pg_type: &PgType,
    scope: &Scope,
    ctx: &mut SqlContext,
) -> Expr {
    match value {
        serde_json::Value::String(s) if graft_schema::boolexp::is_session_variable(s) => {
            let geometry = Expr::FunctionCall(Box::new(FunctionCall::new(
                FunctionName::Builtin("ST_GeomFromGeoJSON"),
                vec![ctx.session_variable(&s.to_ascii_lowercase())],
            )));
            cast(geometry, type_name(pg_type))
        }
        other => {
            let _ = scope;
            ctx.column_literal(other, pg_type)
        }
    }
}

/// `ST_Contains(col, value)` and friends; `ST_DWithin(col, from, distance[, use_spheroid])`.
fn postgis(
    target: Expr,
    pg_type: &PgType,
    op: ComparisonOp,
    value: &Operand,
    scope: &Scope,
    ctx: &mut SqlContext,
) -> Expr {
    use ComparisonOp::*;
    let name = match op {
        StContains => "ST_Contains",
        StCrosses => "ST_Crosses",
        StEquals => "ST_Equals",
        StIntersects => "ST_Intersects",
        StOverlaps => "ST_Overlaps",
        StTouches => "ST_Touches",
        StWithin => "ST_Within",
        StDWithin => "ST_DWithin",
        St3dDWithin => "ST_3DDWithin",
        _ => "ST_3DIntersects",
    };
    let args = match (op, value) {
        (StDWithin | St3dDWithin, Operand::Literal(serde_json::Value::Object(spec))) => {
            let null = serde_json::Value::Null;
            let from = geo_operand(spec.get("from").unwrap_or(&null), pg_type, scope, ctx);
            let distance = match spec.get("distance").unwrap_or(&null) {
                serde_json::Value::String(s) if graft_schema::boolexp::is_session_variable(s) => {
                    cast(
                        ctx.session_variable(&s.to_ascii_lowercase()),
                        TypeName::new("float8"),
                    )
                }
                other => ctx.literal(other, TypeName::new("float8"), ParamFormat::Text),
            };
            let mut args = vec![target, from, distance];
            match spec.get("use_spheroid") {
                Some(serde_json::Value::String(s))
                    if graft_schema::boolexp::is_session_variable(s) =>
                {
                    args.push(cast(
                        ctx.session_variable(&s.to_ascii_lowercase()),
                        TypeName::new("bool"),
                    ))
                }
                Some(spheroid) => {
                    args.push(ctx.literal(spheroid, TypeName::new("bool"), ParamFormat::Text))
                }
                None => {}
            }
            args
        }
        (_, Operand::Literal(json)) => vec![target, geo_operand(json, pg_type, scope, ctx)],
        (_, Operand::Session(name)) => {
            let geometry = Expr::FunctionCall(Box::new(FunctionCall::new(
                FunctionName::Builtin("ST_GeomFromGeoJSON"),
                vec![ctx.session_variable(name)],
            )));
            vec![target, cast(geometry, type_name(pg_type))]
        }
        (_, other) => vec![
            target,
            operand(other, type_name(pg_type), format_of(pg_type), scope, ctx),
        ],
    };
    Expr::FunctionCall(Box::new(FunctionCall::new(
        FunctionName::Builtin(name),
        args,
    )))
}

/// `EXISTS (SELECT 1 FROM "s"."t" AS "alias" WHERE condition)`
fn exists(table: &QualifiedTable, alias: TableAlias, condition: Expr) -> Expr {
    let mut select = Select::new(vec![(Expr::Int(1), ColumnAlias::new("one"))]);
    select.from = Some(From::Table {
        name: table_name(table),
        alias,
    });
    select.where_ = match condition {
        Expr::Bool(true) => None,
        other => Some(other),
    };
    Expr::Exists(Box::new(select))
}

/// The right-hand side of a comparison, typed `ty` (a literal or session value is cast).
fn operand(
    value: &Operand,
    ty: TypeName,
    format: ParamFormat,
    scope: &Scope,
    ctx: &mut SqlContext,
) -> Expr {
    match value {
        Operand::Literal(json) => ctx.literal(json, ty, format),
        Operand::Session(name) => cast(ctx.session_variable(name), ty),
        Operand::Column { column: name, root } => {
            let alias = if *root { &scope.root } else { &scope.current };
            column(alias, name)
        }
    }
}

/// A type in the same schema as the column's (ltree's `lquery` lives where ltree is installed).
fn sibling_type(pg_type: &PgType, name: &str) -> TypeName {
    TypeName::qualified(&pg_type.schema, name)
}

fn comparison(
    target: Expr,
    pg_type: &PgType,
    op: ComparisonOp,
    value: &Operand,
    scope: &Scope,
    ctx: &mut SqlContext,
) -> Expr {
    use ComparisonOp::*;
    use ParamFormat::{Array, Text};
    let own = || type_name(pg_type);
    let own_format = format_of(pg_type);
    let list_format = list_format_of(pg_type);
    let text = || TypeName::new("text");
    let lquery = || sibling_type(pg_type, "lquery");
    let simple = |op: Op, ty: TypeName, format: ParamFormat, ctx: &mut SqlContext| {
        let right = operand(value, ty, format, scope, ctx);
        binary(target.clone(), op, right)
    };
    match op {
        Eq => simple(Op::Eq, own(), own_format, ctx),
        Neq => simple(Op::NotEq, own(), own_format, ctx),
        Gt => simple(Op::Gt, own(), own_format, ctx),
        Lt => simple(Op::Lt, own(), own_format, ctx),
        Gte => simple(Op::GtEq, own(), own_format, ctx),
        Lte => simple(Op::LtEq, own(), own_format, ctx),
        Like => simple(Op::Like, own(), own_format, ctx),
        Nlike => simple(Op::NotLike, own(), own_format, ctx),
        Ilike => simple(Op::ILike, own(), own_format, ctx),
        Nilike => simple(Op::NotILike, own(), own_format, ctx),
        Similar => simple(Op::SimilarTo, own(), own_format, ctx),
        Nsimilar => simple(Op::NotSimilarTo, own(), own_format, ctx),
        Regex => simple(Op::RegexMatch, own(), own_format, ctx),
        Nregex => simple(Op::NotRegexMatch, own(), own_format, ctx),
        Iregex => simple(Op::RegexIMatch, own(), own_format, ctx),
        Niregex => simple(Op::NotRegexIMatch, own(), own_format, ctx),
        Contains | Ancestor => simple(Op::Contains, own(), own_format, ctx),
        ContainedIn | Descendant => simple(Op::ContainedIn, own(), own_format, ctx),
        AncestorAny => simple(Op::Contains, own().array(), list_format, ctx),
        DescendantAny => simple(Op::ContainedIn, own().array(), list_format, ctx),
        HasKey => simple(Op::HasKey, text(), Text, ctx),
        HasKeysAny => simple(Op::HasKeyAny, text().array(), Array, ctx),
        HasKeysAll => simple(Op::HasKeyAll, text().array(), Array, ctx),
        Matches => simple(Op::RegexMatch, lquery(), Text, ctx),
        MatchesAny => simple(Op::HasKey, lquery().array(), Array, ctx),
        MatchesFulltext => {
            let ltxtquery = sibling_type(pg_type, "ltxtquery");
            simple(Op::LtreeMatchText, ltxtquery, Text, ctx)
        }
        In | Nin => {
            // One array parameter for the whole list keeps the SQL text independent of its length.
            let list = match value {
                Operand::Literal(serde_json::Value::Array(_))
                | Operand::Session(_)
                | Operand::Column { .. } => operand(value, own().array(), list_format, scope, ctx),
                Operand::Literal(single) => {
                    let list = serde_json::Value::Array(vec![single.clone()]);
                    ctx.literal(&list, own().array(), list_format)
                }
            };
            let any = Expr::Quantified {
                left: Box::new(target),
                op: Op::Eq,
                quantifier: Quantifier::Any,
                right: Box::new(list),
            };
            if op == In {
                any
            } else {
                Expr::Not(Box::new(any))
            }
        }
        StContains | StCrosses | StEquals | StIntersects | StOverlaps | StTouches | StWithin
        | StDWithin | St3dDWithin | St3dIntersects => {
            postgis(target, pg_type, op, value, scope, ctx)
        }
        IsNull => match value {
            Operand::Literal(serde_json::Value::Bool(true)) => Expr::IsNull(Box::new(target)),
            Operand::Literal(serde_json::Value::Bool(false)) => Expr::IsNotNull(Box::new(target)),
            other => {
                let wanted = operand(other, TypeName::new("bool"), Text, scope, ctx);
                binary(Expr::IsNull(Box::new(target)), Op::Eq, wanted)
            }
        },
    }
}
