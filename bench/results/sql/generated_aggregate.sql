-- graft's statement for `generated_aggregate`, as PostgreSQL logged it
SELECT json_build_object('article_aggregate', (SELECT json_build_object('aggregate', json_build_object('count', count(*), 'avg', json_build_object('rating', avg("_s1"."c0")))) AS "json" FROM (SELECT "_t0"."rating" AS "c0" FROM "public"."article" AS "_t0" WHERE (("_t0"."published" = $2::"pg_catalog"."bool") AND ("_t0"."rating" >= $3::"pg_catalog"."int4"))) AS "_s1")) AS "data"
-- $1: {}
-- $2: true
-- $3: 4
