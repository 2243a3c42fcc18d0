-- graft's statement for `aggregate`, as PostgreSQL logged it
SELECT json_build_object('Track_aggregate', (SELECT json_build_object('aggregate', json_build_object('count', count(*), 'sum', json_build_object('Milliseconds', sum("_s1"."c0")), 'avg', json_build_object('UnitPrice', avg("_s1"."c1")), 'max', json_build_object('Milliseconds', max("_s1"."c0")))) AS "json" FROM (SELECT "_t0"."Milliseconds" AS "c0", "_t0"."UnitPrice" AS "c1" FROM "public"."Track" AS "_t0" WHERE ("_t0"."GenreId" = $2::"pg_catalog"."int4")) AS "_s1")) AS "data"
-- $1: {}
-- $2: 1
