-- graft's statement for `insert_1`, as PostgreSQL logged it
WITH "_ins1" AS (INSERT INTO "public"."article" AS "_t0" ("author_id", "title", "body", "rating") VALUES ($2::"pg_catalog"."int4", $3::"pg_catalog"."text", $4::"pg_catalog"."text", $5::"pg_catalog"."int4") RETURNING *) SELECT json_build_object('affected_rows', (SELECT count(*) AS "value" FROM "_ins1" AS "_t2"), 'returning', (SELECT coalesce(json_agg("_s4"."json"), '[]') AS "json" FROM (SELECT json_build_object('id', "_t3"."id") AS "json" FROM "_ins1" AS "_t3") AS "_s4")) AS "root"
-- $1: {"x-hasura-role":"admin"}
-- $2: 1001
-- $3: Bench article 0
-- $4: Written by the benchmark.
-- $5: 3
