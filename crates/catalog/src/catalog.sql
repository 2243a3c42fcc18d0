-- graft catalog query: one statement, one snapshot, one JSON value.
-- Every object key below is a field of the Rust types in `types/`; the value deserializes
-- straight into `DbCatalog` (see `db_catalog.rs` for how its maps travel as lists).
--
-- Performance notes: the CTEs are each computed once and joined by hash; nothing below runs
-- a subquery per row against a CTE (that would rescan it for every row). Per-row lookups go
-- to catalog indexes (pg_attribute by attrelid/attnum, pg_enum by enumtypid) or to the
-- one-row `types` map (see the Types section for why).
WITH RECURSIVE

-- Schemas graft exposes: all but Postgres' own (pg_catalog, pg_toast*, pg_temp*: the pg_
-- prefix is reserved for the system), information_schema, and graft's hdb_catalog.
exposed_schemas AS (
  SELECT ns.oid, ns.nspname
  FROM pg_catalog.pg_namespace ns
  WHERE ns.nspname NOT LIKE 'pg\_%'
    AND ns.nspname NOT IN ('information_schema', 'hdb_catalog')
),

-- Objects created by CREATE EXTENSION (citext, ltree, postgis helpers). Hidden as in Hasura,
-- so extensions installed into `public` do not flood the function and type lists.
extension_members AS (
  SELECT dep.classid, dep.objid
  FROM pg_catalog.pg_depend dep
  WHERE dep.deptype = 'e'
),

-- ---------------------------------------------------------------------------------------
-- The objects graft exposes.
-- ---------------------------------------------------------------------------------------

-- Tables, views, materialized views, foreign tables, partitioned tables.
relations AS (
  SELECT rel.oid, rel.relname, rel.relkind, sch.nspname
  FROM pg_catalog.pg_class rel
  JOIN exposed_schemas sch ON sch.oid = rel.relnamespace
  WHERE rel.relkind IN ('r', 'v', 'm', 'f', 'p')
),

-- Plain functions only (no aggregates, window functions or procedures), and not those an
-- extension created.
exposed_functions AS (
  SELECT fn.*, sch.nspname
  FROM pg_catalog.pg_proc fn
  JOIN exposed_schemas sch ON sch.oid = fn.pronamespace
  WHERE fn.prokind = 'f'
    AND NOT EXISTS (
      SELECT 1
      FROM extension_members ext
      WHERE ext.classid = 'pg_catalog.pg_proc'::regclass
        AND ext.objid = fn.oid
    )
),

-- User-defined ENUM and composite types (CREATE TYPE ... AS ENUM / AS (...)). A table's own
-- row type is not listed here: the table is.
user_types AS (
  SELECT ty.oid, ty.typtype, ty.typrelid, ty.typname, sch.nspname
  FROM pg_catalog.pg_type ty
  JOIN exposed_schemas sch ON sch.oid = ty.typnamespace
  WHERE (
      ty.typtype = 'e'
      OR (ty.typtype = 'c' AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_class rel WHERE rel.oid = ty.typrelid AND rel.relkind = 'c'
      ))
    )
    AND NOT EXISTS (
      SELECT 1
      FROM extension_members ext
      WHERE ext.classid = 'pg_catalog.pg_type'::regclass
        AND ext.objid = ty.oid
    )
),

-- ---------------------------------------------------------------------------------------
-- Types. Only those something exposed refers to (format_type and JSON for all of pg_type
-- would cost more than the rest of the query). A type's JSON nests two levels: an array
-- carries its element and a domain its base, and those carry theirs once more (an array of
-- domains, a domain over an array). `display` here is format_type without a type modifier;
-- columns replace it with their own (varchar(20), numeric(10,2)).
--
-- The types travel as one-row JSON maps keyed by oid, read through scalar subqueries (run
-- once) and looked up with `->`. Joining type CTEs to each other instead makes the planner
-- multiply its row guesses (it knows nothing about CTE keys) up to 1e30 rows, which turns on
-- JIT compilation: seconds, not milliseconds. And a CROSS JOIN to the map would copy it into
-- every row that a sort spills to disk.
-- ---------------------------------------------------------------------------------------

-- Types used directly by columns, composite fields, arguments and results.
used_types AS (
  SELECT att.atttypid AS oid
  FROM pg_catalog.pg_attribute att
  JOIN relations rel ON rel.oid = att.attrelid
  WHERE att.attnum > 0 AND NOT att.attisdropped
  UNION
  SELECT att.atttypid
  FROM pg_catalog.pg_attribute att
  JOIN user_types ty ON ty.typrelid = att.attrelid
  WHERE att.attnum > 0 AND NOT att.attisdropped
  UNION
  SELECT fn.prorettype
  FROM exposed_functions fn
  UNION
  SELECT unnest(coalesce(fn.proallargtypes, fn.proargtypes::oid[]))
  FROM exposed_functions fn
),

-- Each domain paired with the first non-domain type under it (domains can stack).
domain_chain AS (
  SELECT ty.oid AS domain_oid, ty.typbasetype AS base_oid
  FROM pg_catalog.pg_type ty
  WHERE ty.typtype = 'd'
  UNION ALL
  SELECT chain.domain_oid, ty.typbasetype
  FROM domain_chain chain
  JOIN pg_catalog.pg_type ty ON ty.oid = chain.base_oid AND ty.typtype = 'd'
),

domain_base AS (
  SELECT chain.domain_oid, chain.base_oid
  FROM domain_chain chain
  JOIN pg_catalog.pg_type base ON base.oid = chain.base_oid AND base.typtype <> 'd'
),

-- Every type with the types one step under it: an array's element, a domain's base.
-- Inlined, so joins to it are joins to pg_type, whose unique oid the planner knows.
type_parts AS NOT MATERIALIZED (
  SELECT
    ty.oid,
    ty.typname,
    ty.typnamespace,
    ty.typtype,
    CASE WHEN ty.typcategory = 'A' AND ty.typelem <> 0 AND ty.typlen = -1
      THEN ty.typelem
    END AS element_oid,
    db.base_oid
  FROM pg_catalog.pg_type ty
  LEFT JOIN domain_base db ON db.domain_oid = ty.oid
),

-- The used types and, two steps deep, the types under them.
type_closure AS (
  SELECT used.oid
  FROM used_types used
  UNION
  SELECT under.oid
  FROM used_types used
  JOIN type_parts part ON part.oid = used.oid
  CROSS JOIN LATERAL (VALUES (part.element_oid), (part.base_oid)) AS under(oid)
  WHERE under.oid IS NOT NULL
  UNION
  SELECT under_under.oid
  FROM used_types used
  JOIN type_parts part ON part.oid = used.oid
  CROSS JOIN LATERAL (VALUES (part.element_oid), (part.base_oid)) AS under(oid)
  JOIN type_parts under_part ON under_part.oid = under.oid
  CROSS JOIN LATERAL (VALUES (under_part.element_oid), (under_part.base_oid))
    AS under_under(oid)
  WHERE under_under.oid IS NOT NULL
),

-- Each closure type alone: where it lives, its name, its kind.
closure_types AS (
  SELECT
    part.oid,
    part.element_oid,
    part.base_oid,
    jsonb_build_object(
      'schema', ns.nspname,
      'name', part.typname,
      'kind', CASE
        WHEN part.element_oid IS NOT NULL AND part.typtype = 'b' THEN 'array'
        WHEN part.typtype = 'b' THEN 'base'
        WHEN part.typtype = 'e' THEN 'enum'
        WHEN part.typtype = 'c' THEN 'composite'
        WHEN part.typtype = 'd' THEN 'domain'
        WHEN part.typtype IN ('r', 'm') THEN 'range'
        ELSE 'pseudo'
      END,
      'display', pg_catalog.format_type(part.oid, NULL)
    ) AS info
  FROM type_closure closure
  JOIN type_parts part ON part.oid = closure.oid
  JOIN pg_catalog.pg_namespace ns ON ns.oid = part.typnamespace
),

flat_types AS (
  SELECT jsonb_object_agg(ct.oid::text, ct.info) AS by_oid
  FROM closure_types ct
),

nested_once_types AS (
  SELECT jsonb_object_agg(ct.oid::text, ct.info || jsonb_build_object(
    'element', (SELECT flat.by_oid FROM flat_types flat) -> ct.element_oid::text,
    'base', (SELECT flat.by_oid FROM flat_types flat) -> ct.base_oid::text
  )) AS by_oid
  FROM closure_types ct
),

-- The full JSON of every type graft may meet, keyed by oid (as text).
types AS (
  SELECT jsonb_object_agg(ct.oid::text, ct.info || jsonb_build_object(
    'element', (SELECT nested.by_oid FROM nested_once_types nested) -> ct.element_oid::text,
    'base', (SELECT nested.by_oid FROM nested_once_types nested) -> ct.base_oid::text
  )) AS by_oid
  FROM closure_types ct
),

-- ---------------------------------------------------------------------------------------
-- Tables: columns, keys, triggers, then one JSON object per relation.
-- ---------------------------------------------------------------------------------------
relation_columns AS (
  SELECT
    att.attrelid,
    json_agg(json_build_object(
      'name', att.attname,
      'position', att.attnum::int,
      'pg_type', ((SELECT t.by_oid FROM types t) -> att.atttypid::text)
        || jsonb_build_object('display', pg_catalog.format_type(att.atttypid, att.atttypmod)),
      'is_nullable', NOT att.attnotnull,
      -- identity columns have no pg_attrdef row, yet inserts may omit them like a default
      'has_default', att.atthasdef OR att.attidentity <> '',
      'is_identity', att.attidentity <> '',
      'is_generated', att.attgenerated <> '',
      'description', (
        SELECT dsc.description
        FROM pg_catalog.pg_description dsc
        WHERE dsc.objoid = att.attrelid
          AND dsc.classoid = 'pg_catalog.pg_class'::regclass
          AND dsc.objsubid = att.attnum
      )
    ) ORDER BY att.attnum) AS columns
  FROM relations rel
  JOIN pg_catalog.pg_attribute att ON att.attrelid = rel.oid
  WHERE att.attnum > 0
    AND NOT att.attisdropped
  GROUP BY att.attrelid
),

-- Primary key, unique and check constraints; key columns in constraint order.
relation_constraints AS (
  SELECT
    con.conrelid,
    (json_agg(key_columns.key ORDER BY con.conname) FILTER (WHERE con.contype = 'p')) -> 0
      AS primary_key,
    json_agg(key_columns.key ORDER BY con.conname) FILTER (WHERE con.contype = 'u')
      AS unique_constraints,
    json_agg(con.conname ORDER BY con.conname) FILTER (WHERE con.contype = 'c')
      AS check_constraints
  FROM pg_catalog.pg_constraint con
  JOIN relations rel ON rel.oid = con.conrelid
  CROSS JOIN LATERAL (
    SELECT json_build_object(
      'name', con.conname,
      'columns', coalesce(json_agg(att.attname ORDER BY key.ord), '[]')
    ) AS key
    FROM unnest(con.conkey) WITH ORDINALITY AS key(attnum, ord)
    JOIN pg_catalog.pg_attribute att
      ON att.attrelid = con.conrelid AND att.attnum = key.attnum
  ) key_columns
  WHERE con.contype IN ('p', 'u', 'c')
  GROUP BY con.conrelid
),

relation_foreign_keys AS (
  SELECT
    con.conrelid,
    json_agg(json_build_object(
      'name', con.conname,
      'columns', key_columns.columns,
      'ref_table', json_build_object('schema', ref_ns.nspname, 'name', ref_rel.relname),
      'ref_columns', key_columns.ref_columns
    ) ORDER BY con.conname) AS foreign_keys
  FROM pg_catalog.pg_constraint con
  JOIN relations rel ON rel.oid = con.conrelid
  JOIN pg_catalog.pg_class ref_rel ON ref_rel.oid = con.confrelid
  JOIN pg_catalog.pg_namespace ref_ns ON ref_ns.oid = ref_rel.relnamespace
  CROSS JOIN LATERAL (
    SELECT
      json_agg(att.attname ORDER BY key.ord) AS columns,
      json_agg(ref_att.attname ORDER BY key.ord) AS ref_columns
    FROM unnest(con.conkey, con.confkey) WITH ORDINALITY AS key(attnum, ref_attnum, ord)
    JOIN pg_catalog.pg_attribute att
      ON att.attrelid = con.conrelid AND att.attnum = key.attnum
    JOIN pg_catalog.pg_attribute ref_att
      ON ref_att.attrelid = con.confrelid AND ref_att.attnum = key.ref_attnum
  ) key_columns
  WHERE con.contype = 'f'
    -- A key that references a partitioned table is copied, on the same referencing table,
    -- once per referenced partition; those copies are bookkeeping, not extra keys.
    -- (written with OR, not as an anti-join, which the planner guesses keeps one row)
    AND (
      con.conparentid = 0
      OR NOT EXISTS (
        SELECT 1
        FROM pg_catalog.pg_constraint parent
        WHERE parent.oid = con.conparentid
          AND parent.conrelid = con.conrelid
      )
    )
  GROUP BY con.conrelid
),

relation_triggers AS (
  SELECT trg.tgrelid, json_agg(trg.tgname ORDER BY trg.tgname) AS triggers
  FROM pg_catalog.pg_trigger trg
  JOIN relations rel ON rel.oid = trg.tgrelid
  WHERE NOT trg.tgisinternal
  GROUP BY trg.tgrelid
),

tables AS (
  SELECT
    rel.nspname,
    rel.relname,
    json_build_object(
      'name', json_build_object('schema', rel.nspname, 'name', rel.relname),
      'kind', CASE rel.relkind
        WHEN 'r' THEN 'table'
        WHEN 'v' THEN 'view'
        WHEN 'm' THEN 'materialized_view'
        WHEN 'f' THEN 'foreign_table'
        WHEN 'p' THEN 'partitioned_table'
      END,
      'oid', rel.oid::bigint,
      'columns', coalesce(cols.columns, '[]'),
      'primary_key', keys.primary_key,
      'unique_constraints', coalesce(keys.unique_constraints, '[]'),
      'foreign_keys', coalesce(fks.foreign_keys, '[]'),
      'check_constraints', coalesce(keys.check_constraints, '[]'),
      'description', (
        SELECT dsc.description
        FROM pg_catalog.pg_description dsc
        WHERE dsc.objoid = rel.oid
          AND dsc.classoid = 'pg_catalog.pg_class'::regclass
          AND dsc.objsubid = 0
      ),
      -- pg_relation_is_updatable bits: 4 UPDATE, 8 INSERT, 16 DELETE
      'is_insertable', (mutability.events & 8) = 8,
      'is_updatable', (mutability.events & 4) = 4,
      'is_deletable', (mutability.events & 16) = 16,
      'triggers', coalesce(trg.triggers, '[]')
    ) AS info
  FROM relations rel
  -- As in Hasura, only views are asked; every other relation is taken as writable.
  CROSS JOIN LATERAL (
    SELECT CASE
      WHEN rel.relkind IN ('v', 'm') THEN pg_catalog.pg_relation_is_updatable(rel.oid, true)
      ELSE 28
    END AS events
  ) mutability
  LEFT JOIN relation_columns cols ON cols.attrelid = rel.oid
  LEFT JOIN relation_constraints keys ON keys.conrelid = rel.oid
  LEFT JOIN relation_foreign_keys fks ON fks.conrelid = rel.oid
  LEFT JOIN relation_triggers trg ON trg.tgrelid = rel.oid
),

-- ---------------------------------------------------------------------------------------
-- Functions.
-- ---------------------------------------------------------------------------------------
-- Input arguments (IN, INOUT, VARIADIC) in order. proargnames and proargmodes follow
-- proallargtypes when OUT arguments exist, proargtypes otherwise. The last
-- pronargdefaults inputs are the ones with defaults.
function_arguments AS (
  SELECT
    arg.function_oid,
    json_agg(json_build_object(
      'name', nullif(arg.name, ''),
      'pg_type', (SELECT t.by_oid FROM types t) -> arg.type_oid::text,
      'has_default', arg.input_position > arg.pronargs - arg.pronargdefaults
    ) ORDER BY arg.input_position) AS arguments
  FROM (
    SELECT
      fn.oid AS function_oid,
      fn.pronargs,
      fn.pronargdefaults,
      all_args.type_oid,
      all_args.name,
      row_number() OVER (PARTITION BY fn.oid ORDER BY all_args.ord) AS input_position
    FROM exposed_functions fn
    CROSS JOIN LATERAL unnest(
      coalesce(fn.proallargtypes, fn.proargtypes::oid[]),
      fn.proargmodes,
      fn.proargnames
    ) WITH ORDINALITY AS all_args(type_oid, mode, name, ord)
    WHERE coalesce(all_args.mode, 'i') IN ('i', 'b', 'v')
  ) arg
  GROUP BY arg.function_oid
),

functions AS (
  SELECT
    fn.nspname,
    fn.proname,
    fn.oid,
    json_build_object(
      'name', json_build_object('schema', fn.nspname, 'name', fn.proname),
      'oid', fn.oid::bigint,
      'arguments', coalesce(args.arguments, '[]'),
      'return_type', (SELECT t.by_oid FROM types t) -> fn.prorettype::text,
      'returns_set', fn.proretset,
      'return_table', CASE WHEN ret_rel.oid IS NOT NULL
        THEN json_build_object('schema', ret_ns.nspname, 'name', ret_rel.relname)
      END,
      'volatility', CASE fn.provolatile
        WHEN 'i' THEN 'immutable'
        WHEN 's' THEN 'stable'
        ELSE 'volatile'
      END,
      'description', (
        SELECT dsc.description
        FROM pg_catalog.pg_description dsc
        WHERE dsc.objoid = fn.oid
          AND dsc.classoid = 'pg_catalog.pg_proc'::regclass
          AND dsc.objsubid = 0
      ),
      'default_args', fn.pronargdefaults::int
    ) AS info
  FROM exposed_functions fn
  JOIN pg_catalog.pg_type ret_type ON ret_type.oid = fn.prorettype
  -- a table's row type: the function returns rows of that table
  LEFT JOIN pg_catalog.pg_class ret_rel
    ON ret_rel.oid = ret_type.typrelid
   AND ret_rel.relkind IN ('r', 'v', 'm', 'f', 'p')
  LEFT JOIN pg_catalog.pg_namespace ret_ns ON ret_ns.oid = ret_rel.relnamespace
  LEFT JOIN function_arguments args ON args.function_oid = fn.oid
),

-- ---------------------------------------------------------------------------------------
-- ENUM labels and composite type fields.
-- ---------------------------------------------------------------------------------------
enum_types AS (
  SELECT
    ty.nspname,
    ty.typname,
    json_build_object(
      'name', json_build_object('schema', ty.nspname, 'name', ty.typname),
      'labels', coalesce(labels.labels, '[]')
    ) AS info
  FROM user_types ty
  CROSS JOIN LATERAL (
    SELECT json_agg(en.enumlabel ORDER BY en.enumsortorder) AS labels
    FROM pg_catalog.pg_enum en
    WHERE en.enumtypid = ty.oid
  ) labels
  WHERE ty.typtype = 'e'
),

composite_types AS (
  SELECT
    ty.nspname,
    ty.typname,
    json_build_object(
      'name', json_build_object('schema', ty.nspname, 'name', ty.typname),
      'fields', json_agg(json_build_object(
        'name', att.attname,
        'pg_type', ((SELECT t.by_oid FROM types t) -> att.atttypid::text)
          || jsonb_build_object('display', pg_catalog.format_type(att.atttypid, att.atttypmod))
      ) ORDER BY att.attnum)
    ) AS info
  FROM user_types ty
  JOIN pg_catalog.pg_class rel ON rel.oid = ty.typrelid AND rel.relkind = 'c'
  JOIN pg_catalog.pg_attribute att ON att.attrelid = rel.oid
  WHERE ty.typtype = 'c'
    AND att.attnum > 0
    AND NOT att.attisdropped
  GROUP BY ty.oid, ty.nspname, ty.typname
)

SELECT json_build_object(
  'tables',
    coalesce((SELECT json_agg(t.info ORDER BY t.nspname, t.relname) FROM tables t), '[]'),
  'functions',
    coalesce((SELECT json_agg(f.info ORDER BY f.nspname, f.proname, f.oid) FROM functions f), '[]'),
  'enum_types',
    coalesce((SELECT json_agg(e.info ORDER BY e.nspname, e.typname) FROM enum_types e), '[]'),
  'composite_types',
    coalesce((SELECT json_agg(c.info ORDER BY c.nspname, c.typname) FROM composite_types c), '[]')
) AS catalog
