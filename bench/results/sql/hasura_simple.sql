-- graft's statement for `hasura_simple`, as PostgreSQL logged it
SELECT json_build_object('Customer', (SELECT coalesce(json_agg("_s1"."json"), '[]') AS "json" FROM (SELECT json_build_object('Email', "_t0"."Email") AS "json" FROM "public"."Customer" AS "_t0" WHERE ("_t0"."SupportRepId" = ($1::json ->> 'x-hasura-user-id')::"pg_catalog"."int4")) AS "_s1")) AS "data"
-- $1: {"x-hasura-user-id":"4"}
