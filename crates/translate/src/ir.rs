//! The intermediate representation translated to SQL: what to read or write, with the role's
//! permissions already folded in (filters ANDed, limits capped, presets and checks attached).
//!
//! The SQL layer (`select.rs`, `mutation.rs`, `boolexp.rs`) knows nothing of roles or of the API
//! that built the IR: the v1 data API builds it in `rql/`, the GraphQL engine will build the same
//! types from its own operations. Session values stay symbolic (`Operand::Session`) and are read
//! from the statement's first parameter, so the SQL text does not depend on the session.

use graft_catalog::PgType;
use graft_metadata::{QualifiedFunction, QualifiedTable};
use graft_schema::{BoolExp, RelationshipKind};
use serde_json::Value;

/// A read of rows of one table, output as a JSON array of objects (or, for an object
/// relationship, as one object or null).
#[derive(Debug, Clone, PartialEq)]
pub struct SelectIr {
    pub table: QualifiedTable,
    /// Output key → what it holds, in output order.
    pub fields: Vec<(String, FieldIr)>,
    /// Client condition AND permission filter.
    pub filter: BoolExp,
    pub order_by: Vec<OrderByIr>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// `DISTINCT ON` these columns; `order_by` then starts with them.
    pub distinct_on: Vec<String>,
    /// Read the rows from this function (returning rows of `table`) instead of the table: a
    /// tracked function or a table-returning computed field (`Row` is the parent row).
    pub from_function: Option<FunctionSource>,
}

/// `"public"."search_articles"($2::text)`: a set-returning function as a row source.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSource {
    pub function: QualifiedFunction,
    pub arguments: Vec<ComputedArgument>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldIr {
    Column(ColumnField),
    Relationship(RelationshipField),
    /// An aggregate of the rows of an array relationship (GraphQL `articles_aggregate`).
    RelationshipAggregate(RelationshipAggregateField),
    /// A constant string: GraphQL's `__typename`.
    Typename(String),
    /// A scalar computed field: its function called on the row.
    Computed(ComputedScalarField),
}

/// `"public"."full_name"("_t0", $2::text)`: a function of the row returning one value.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputedScalarField {
    pub function: QualifiedFunction,
    /// The call's arguments, positionally; trailing defaulted ones the client left out are absent.
    pub arguments: Vec<ComputedArgument>,
    /// Output the value as a JSON string (big numbers under `stringify_numeric`).
    pub as_text: bool,
    /// As for a column: the rows in which an inherited role may see the value.
    pub redaction: Option<Box<BoolExp>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ComputedArgument {
    /// The current row.
    Row,
    /// The session variables, as `json`.
    Session,
    /// A client value, bound as a parameter of the argument's type.
    Value(Value, PgType),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RelationshipAggregateField {
    /// (column of the parent, column of the target) pairs that must be equal.
    pub mapping: Vec<(String, String)>,
    pub aggregate: Box<AggregateIr>,
}

/// `{aggregate {count sum {..} ..} nodes {..}}` over the rows `rows` selects (its filter,
/// order, limit, offset and distinct apply; its `fields` are unused).
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateIr {
    pub rows: SelectIr,
    /// Output key → what it holds, in output order.
    pub output: Vec<(String, AggregateOutput)>,
    /// A permission's row limit when aggregates are also asked: Hasura aggregates over every
    /// row the filter allows and applies the permission limit to `nodes` alone.
    pub nodes_limit: Option<u64>,
    /// Columns an inherited role sees only in some rows, with the condition: the aggregates
    /// read them as null elsewhere.
    pub redacted: Vec<(String, BoolExp)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AggregateOutput {
    Typename(String),
    /// The rows themselves, as a JSON array of objects.
    Nodes(Vec<(String, FieldIr)>),
    /// An object of aggregate values.
    Aggregate(Vec<(String, AggregateValue)>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum AggregateValue {
    Typename(String),
    /// `count(*)`, or of the rows where `columns` are not null, or of their distinct values.
    Count {
        columns: Vec<String>,
        distinct: bool,
    },
    /// `sum { a b }`: one function applied to several columns, as an object.
    Function {
        function: AggregateFunction,
        columns: Vec<(String, AggregateColumn)>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum AggregateColumn {
    Typename(String),
    Column(ColumnField),
}

/// The aggregate functions Hasura exposes, named as in GraphQL and in SQL alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    Sum,
    Avg,
    Max,
    Min,
    Stddev,
    StddevPop,
    StddevSamp,
    VarPop,
    VarSamp,
    Variance,
}

impl AggregateFunction {
    pub fn from_name(name: &str) -> Option<AggregateFunction> {
        use AggregateFunction::*;
        Some(match name {
            "sum" => Sum,
            "avg" => Avg,
            "max" => Max,
            "min" => Min,
            "stddev" => Stddev,
            "stddev_pop" => StddevPop,
            "stddev_samp" => StddevSamp,
            "var_pop" => VarPop,
            "var_samp" => VarSamp,
            "variance" => Variance,
            _ => return None,
        })
    }

    /// The Postgres function's name.
    pub fn sql_name(self) -> &'static str {
        use AggregateFunction::*;
        match self {
            Sum => "sum",
            Avg => "avg",
            Max => "max",
            Min => "min",
            Stddev => "stddev",
            StddevPop => "stddev_pop",
            StddevSamp => "stddev_samp",
            VarPop => "var_pop",
            VarSamp => "var_samp",
            Variance => "variance",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnField {
    pub column: String,
    pub pg_type: PgType,
    /// Output the value as a JSON string (bigint and numeric under `stringify_numeric`).
    pub as_text: bool,
    /// For json/jsonb columns, the part of the document at this path (`#>`), from GraphQL's
    /// `path` argument (`$.a.b[0]` → `["a", "b", "0"]`).
    pub json_path: Option<Vec<String>>,
    /// An inherited role sees this column only in rows matching this condition; elsewhere it is
    /// null (`CASE WHEN <condition> THEN "col" ELSE NULL END`).
    pub redaction: Option<Box<BoolExp>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RelationshipField {
    pub kind: RelationshipKind,
    /// (column of the parent, column of the target) pairs that must be equal.
    pub mapping: Vec<(String, String)>,
    pub select: Box<SelectIr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderDirection {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullsOrder {
    First,
    Last,
}

/// Order by a column of the table, or of a row reached through object relationships, or by an
/// aggregate of an array relationship of that row.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderByIr {
    pub path: Vec<OrderByHop>,
    pub target: OrderByTarget,
    pub direction: OrderDirection,
    pub nulls: Option<NullsOrder>,
    /// A column an inherited role sees only in some rows: the condition on the row it is read
    /// from (the last hop's, or the aggregated one's); elsewhere it orders as null.
    pub redaction: Option<Box<BoolExp>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OrderByTarget {
    Column(String),
    /// The value of a scalar computed field of the row.
    Computed(ComputedScalarField),
    /// An aggregate of the rows an array relationship reaches (`articles_aggregate {count}`).
    Aggregate {
        relationship: Box<OrderByHop>,
        value: OrderByAggregate,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum OrderByAggregate {
    Count,
    Function(AggregateFunction, String),
}

/// One object relationship crossed by an order-by path, with the target's permission filter.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderByHop {
    pub target: QualifiedTable,
    pub mapping: Vec<(String, String)>,
    pub filter: BoolExp,
}

/// `{"count": n}` of the rows matching `filter`, or of distinct values of `distinct` columns.
#[derive(Debug, Clone, PartialEq)]
pub struct CountIr {
    pub table: QualifiedTable,
    pub filter: BoolExp,
    pub distinct: Vec<String>,
}

/// A value written to a column.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueIr {
    /// A client or preset literal (null included), sent as a parameter cast to the column type.
    Literal(Value),
    /// A session variable (lower-cased name), read from the session parameter.
    Session(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum InsertValue {
    /// The column's default: the object did not give it.
    Default,
    Value(ValueIr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct InsertColumn {
    pub name: String,
    pub pg_type: PgType,
}

/// What a mutation answers: `affected_rows` always, `returning` when asked.
#[derive(Debug, Clone, PartialEq)]
pub struct MutationOutput {
    pub returning: Option<Vec<(String, FieldIr)>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InsertIr {
    pub table: QualifiedTable,
    /// Every column some object (or a preset) gives, in a fixed order.
    pub columns: Vec<InsertColumn>,
    /// One entry per object, one value per column of `columns`.
    pub rows: Vec<Vec<InsertValue>>,
    pub on_conflict: Option<OnConflictIr>,
    /// The insert permission's check; `None` for admin. Evaluated on every inserted row.
    pub check: Option<BoolExp>,
    pub output: MutationOutput,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConflictTarget {
    Constraint(String),
    Columns(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConflictAction {
    DoNothing,
    DoUpdate(Box<ConflictUpdate>),
}

/// Overwrite `columns` from the proposed row, on existing rows matching `filter` (the update
/// permission's filter; true for admin); `check` is the update permission's check, which the
/// updated rows must pass instead of the insert check.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictUpdate {
    pub columns: Vec<String>,
    pub filter: BoolExp,
    pub check: Option<BoolExp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OnConflictIr {
    pub target: Option<ConflictTarget>,
    pub action: ConflictAction,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOp {
    Set(ValueIr),
    Inc(ValueIr),
    Mul(ValueIr),
    Default,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpdateColumn {
    pub name: String,
    pub pg_type: PgType,
    pub op: UpdateOp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpdateIr {
    pub table: QualifiedTable,
    pub set: Vec<UpdateColumn>,
    /// Client `where` AND the update permission's filter.
    pub filter: BoolExp,
    /// The update permission's check on the new row values.
    pub check: Option<BoolExp>,
    pub output: MutationOutput,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeleteIr {
    pub table: QualifiedTable,
    /// Client `where` AND the delete permission's filter.
    pub filter: BoolExp,
    pub output: MutationOutput,
}

/// Conjunction that drops trivially-true parts, so admin queries print without `AND true`.
pub fn and(parts: Vec<BoolExp>) -> BoolExp {
    let mut kept: Vec<BoolExp> = parts.into_iter().filter(|p| !p.is_always_true()).collect();
    if kept.len() == 1 {
        kept.remove(0)
    } else {
        BoolExp::And(kept)
    }
}

/// Session variables (lower-cased) a statement reads, so a request that lacks one is refused
/// before it runs instead of silently matching nothing.
pub trait SessionVariables {
    fn session_variables(&self, out: &mut Vec<String>);

    fn missing_session_variable(&self, present: &dyn Fn(&str) -> bool) -> Option<String> {
        let mut used = Vec::new();
        self.session_variables(&mut used);
        used.into_iter().find(|name| !present(name))
    }
}

impl SessionVariables for SelectIr {
    fn session_variables(&self, out: &mut Vec<String>) {
        self.filter.session_variables(out);
        fields_session_variables(&self.fields, out);
        for item in &self.order_by {
            for hop in &item.path {
                hop.filter.session_variables(out);
            }
            if let OrderByTarget::Aggregate { relationship, .. } = &item.target {
                relationship.filter.session_variables(out);
            }
        }
    }
}

fn fields_session_variables(fields: &[(String, FieldIr)], out: &mut Vec<String>) {
    for (_, field) in fields {
        match field {
            FieldIr::Relationship(rel) => rel.select.session_variables(out),
            FieldIr::RelationshipAggregate(rel) => rel.aggregate.session_variables(out),
            FieldIr::Column(ColumnField {
                redaction: Some(condition),
                ..
            })
            | FieldIr::Computed(ComputedScalarField {
                redaction: Some(condition),
                ..
            }) => condition.session_variables(out),
            FieldIr::Column(_) | FieldIr::Typename(_) | FieldIr::Computed(_) => {}
        }
    }
}

impl SessionVariables for AggregateIr {
    fn session_variables(&self, out: &mut Vec<String>) {
        self.rows.session_variables(out);
        for (_, condition) in &self.redacted {
            condition.session_variables(out);
        }
        for (_, output) in &self.output {
            if let AggregateOutput::Nodes(fields) = output {
                fields_session_variables(fields, out);
            }
        }
    }
}

impl SessionVariables for CountIr {
    fn session_variables(&self, out: &mut Vec<String>) {
        self.filter.session_variables(out);
    }
}

impl SessionVariables for ValueIr {
    fn session_variables(&self, out: &mut Vec<String>) {
        if let ValueIr::Session(name) = self {
            out.push(name.clone());
        }
    }
}

impl SessionVariables for InsertIr {
    fn session_variables(&self, out: &mut Vec<String>) {
        for value in self.rows.iter().flatten() {
            if let InsertValue::Value(v) = value {
                v.session_variables(out);
            }
        }
        if let Some(check) = &self.check {
            check.session_variables(out);
        }
        if let Some(OnConflictIr {
            action: ConflictAction::DoUpdate(update),
            ..
        }) = &self.on_conflict
        {
            update.filter.session_variables(out);
            if let Some(check) = &update.check {
                check.session_variables(out);
            }
        }
    }
}

impl SessionVariables for UpdateIr {
    fn session_variables(&self, out: &mut Vec<String>) {
        for column in &self.set {
            match &column.op {
                UpdateOp::Set(v) | UpdateOp::Inc(v) | UpdateOp::Mul(v) => v.session_variables(out),
                UpdateOp::Default => {}
            }
        }
        self.filter.session_variables(out);
        if let Some(check) = &self.check {
            check.session_variables(out);
        }
    }
}

impl SessionVariables for DeleteIr {
    fn session_variables(&self, out: &mut Vec<String>) {
        self.filter.session_variables(out);
    }
}
